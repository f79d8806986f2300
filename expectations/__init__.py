"""Great Expectations suites on warehouse tables and the runner behind ``billops check``."""

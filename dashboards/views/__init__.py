"""Dashboard pages, one module per page; each exposes ``render()`` for ``st.Page``."""

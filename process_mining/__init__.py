"""Event-log analytics: DuckDB SQL for the DFG and variants, pm4py for model discovery."""

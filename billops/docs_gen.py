"""Renders docs/raw-zone.md from the raw-zone contract (a test keeps the two in sync)."""

from __future__ import annotations

from billops.raw_schema import LINEAGE_COLUMNS, TABLES


def render_raw_zone_doc() -> str:
    lines = [
        "# Raw zone tables",
        "",
        "Generated from `billops/raw_schema.py` by `python -m billops.docs_gen > docs/raw-zone.md`;",
        "`tests/test_docs.py` fails when the two disagree. Every table also carries the lineage",
        "columns " + ", ".join(f"`{c}` {t}" for c, t in LINEAGE_COLUMNS.items()) + ".",
        "",
        "Parquet: `$BILLOPS_HOME/lake/raw/<table>/batch_id=<id>/part-0.parquet`; DuckDB view `raw.<table>`.",
        "",
    ]
    for table in TABLES.values():
        lines += [
            f"## `raw.{table.name}`",
            "",
            f"{table.description} System `{table.system}`, from `{table.source}`; "
            f"key ({', '.join(table.key)}).",
            "",
            "| column | type |",
            "|---|---|",
            *(f"| {col} | {typ} |" for col, typ in table.columns.items()),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_raw_zone_doc(), end="")

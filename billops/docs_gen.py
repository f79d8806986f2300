"""Renders docs/raw-zone.md from the raw-zone contract (a test keeps the two in sync)."""

from __future__ import annotations

from billops.landing_variants import VARIANTS
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
    lines += _variant_lines()
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


def _variant_lines() -> list[str]:
    lines = [
        "## Encodings accepted",
        "",
        "The same health system exported another way gives the same exceptions. Per source, the",
        "encoding the generator writes (canonical), what else billops reads and how, with an",
        "example; each variant's transform in `tests/metamorphic/transforms.py` rewrites a",
        "generated landing zone into it and `tests/metamorphic/` asserts the same",
        "`marts.billing_exceptions`.",
        "",
    ]
    source = None
    for v in VARIANTS:
        if v.source != source:
            source = v.source
            lines += [f"### {source}", ""]
        tested = f"transform `{v.transform}`" if v.transform else v.tested_by
        lines += [
            f"**{v.field}.** Canonical: {v.canonical} Accepted: {v.accepted} Tested: {tested}.",
            "",
            "```",
            v.example,
            "```",
            "",
        ]
    return lines


if __name__ == "__main__":
    print(render_raw_zone_doc(), end="")

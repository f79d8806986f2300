"""``billops statements``: the statement release gate (docs/statements.md, docs/cli.md).

``billops statements`` (a dry run) prints the counts and dollars that would be released and held;
``--release`` writes the release file and the hold list (``billops.statements``). Registered on
the main app by :func:`register`; errors are ``BillopsError``, printed on one line by
``billops.cli.main``.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from billops.statements import ReleaseSummary

out = Console()


def statements(
    release: Annotated[bool, typer.Option(
        "--release", help="write the release file and the hold list (without it: a dry run)")] = False,
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="folder of the files (default $BILLOPS_HOME/statements)")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="who releases (recorded in the ledger and the audit trail; default: login)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """The statement release gate: release the statements due that pass, hold the others."""
    from billops.statements import plan_release, release_statements

    if release:
        summary = release_statements(out_dir, actor=by or getpass.getuser())
    else:
        summary = plan_release()
    if as_json:
        sys.stdout.write(json.dumps(summary.as_dict()) + "\n")
        return
    _print(summary)


def _print(summary: ReleaseSummary) -> None:
    verb = "would be" if summary.dry_run else "were"
    table = Table(title=f"statements as of {summary.as_of:%Y-%m-%d %H:%M} ({verb})")
    for column in ("", "statements", "amount"):
        table.add_column(column, justify="right" if column else "left")
    rows = [("due", summary.due), ("released", summary.released),
            ("already released", summary.already_released), ("held", summary.held)]
    rows += [(f"held: {k}", v) for k, v in sorted(summary.held_by_reason.items())]
    rows += [(f"held to {k}", v) for k, v in sorted(summary.held_by_queue.items())]
    for label, tally in rows:
        table.add_row(label, str(tally.statements), f"{tally.amount:,.2f}")
    out.print(table)
    for label, path in (("release file", summary.release_file), ("hold list", summary.hold_file)):
        if path is not None:
            out.print(f"{label}: {path}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``billops statements`` to the main app."""
    app.command("statements")(statements)

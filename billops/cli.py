"""The ``billops`` command line (see docs/cli.md and docs/architecture.md).

Every command exits non-zero with one line naming the problem on bad input; a traceback is
printed only when ``BILLOPS_DEBUG=1``.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer._click.exceptions import UsageError  # Typer vendors Click; its usage errors live here

from billops.config import get_settings
from billops.errors import BillopsError
from billops.fs_security import owner_only_umask

app = typer.Typer(
    name="billops",
    help="Patient-billing reconciliation: land, reconcile, check, mine, score and serve.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
console = Console(stderr=True)
out = Console()

SCALES = ("tiny", "small", "medium", "large")


@contextmanager
def _progress(label: str) -> Iterator[Callable[[str], None]]:
    """A Rich status line on a terminal; silent otherwise (logs and CI stay clean)."""
    if not console.is_terminal:
        yield lambda _msg: None
        return
    with console.status(label) as status:
        yield lambda msg: status.update(f"{label}: {msg}")


def _print_summary(title: str, data: dict[str, Any]) -> None:
    table = Table(title=title, show_header=False)
    for key, value in data.items():
        if key == "messages":
            continue
        table.add_row(str(key), str(value))
    out.print(table)
    for message in data.get("messages", []) or []:
        console.print(message, markup=False, highlight=False)


@app.command()
def generate(
    scale: Annotated[str, typer.Option(help="tiny, small, medium or large")] = "tiny",
    start: Annotated[str | None, typer.Option(help="first month, YYYY-MM")] = None,
    months: Annotated[int | None, typer.Option(help="number of months")] = None,
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives identical files")] = 42,
    out_dir: Annotated[Path | None, typer.Option("--out", help="output folder (default $BILLOPS_HOME)")] = None,
    defect_rate: Annotated[float, typer.Option(help="share of accounts given an injected defect (0 = clean)")] = 0.03,
) -> None:
    """Write a synthetic health system's landing batches and the truth of its defects."""
    if scale not in SCALES:
        raise BillopsError(f"--scale {scale!r}: expected one of {', '.join(SCALES)}")
    from billops.synth import generate as run_generate

    target = out_dir or get_settings().home
    with _progress("generating") as progress:
        summary = run_generate(target, scale=scale, start=start, months=months, seed=seed,
                               progress=progress, defect_rate=defect_rate)
    _print_summary(f"generated {scale} system in {target}", _flat(summary))


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        elif not isinstance(value, list):
            flat[key] = value
    return flat


@app.command()
def ingest(
    landing: Annotated[Path | None, typer.Option(help="landing folder (default $BILLOPS_HOME/landing)")] = None,
    synthea: Annotated[Path | None, typer.Option(help="a Synthea CSV export to map and load (see docs/synthea.md)")] = None,
) -> None:
    """Load every complete, not yet loaded landing batch into the raw zone."""
    from billops.pipeline import ingest_step

    if landing is not None and not landing.is_dir():
        raise BillopsError(f"{landing}: landing folder not found")
    if synthea is not None:
        if not synthea.is_dir():
            raise BillopsError(f"{synthea}: Synthea export folder not found")
        from dataclasses import asdict

        from billops.ingest.synthea import ingest_synthea

        report = asdict(ingest_synthea(synthea))
    else:
        report = ingest_step(landing=landing)
    _print_summary("ingest", report)
    problems = []
    if report.get("batches_quarantined"):
        problems.append(f"{report['batches_quarantined']} batch(es) quarantined; see the messages "
                        "above and raw._batches")
    if report.get("blocked_alert"):  # a batch has held back its system's later ones too long
        problems.append(report["blocked_alert"])
    if problems:
        raise BillopsError("; ".join(problems))


@app.command("validate-x12")
def validate_x12(
    landing: Annotated[Path | None, typer.Option(help="landing folder the files were loaded from (default $BILLOPS_HOME/landing)")] = None,
    limit: Annotated[int | None, typer.Option(help="validate at most this many files, oldest first")] = None,
    workers: Annotated[int, typer.Option(help="validation processes")] = 2,
) -> None:
    """pyx12-validate the loaded X12 files still PENDING in raw._x12_validation."""
    from billops.pipeline import validate_x12_step

    if landing is not None and not landing.is_dir():
        raise BillopsError(f"{landing}: landing folder not found")
    _print_summary("validate-x12", validate_x12_step(landing=landing, limit=limit, workers=workers))


@app.command()
def transform(
    select: Annotated[str | None, typer.Option(help="dbt node selection")] = None,
    intraday: Annotated[bool, typer.Option(
        help="only fold new batches into the incremental facts and the event log")] = False,
    unit_tests: Annotated[bool, typer.Option(
        help="also run the dbt unit tests (they assume the project's default settings)")] = False,
) -> None:
    """Build the warehouse with dbt (staging, intermediate, marts, data tests)."""
    from billops.pipeline import intraday_step, transform_step

    if intraday and (select or unit_tests):
        raise BillopsError("--intraday chooses the models and tests itself; drop --select/--unit-tests")
    _print_summary("transform", intraday_step() if intraday
                   else transform_step(select=select, unit_tests=unit_tests))


@app.command()
def check(
    layer: Annotated[str, typer.Option(help="raw, mart or all (raw first)")] = "all",
    waive: Annotated[str | None, typer.Option(
        help="accept a batch that failed raw checks, SYSTEM/BATCH_ID (needs --reason)")] = None,
    reason: Annotated[str, typer.Option(help="why the waived batch is accepted")] = "",
    by: Annotated[str | None, typer.Option(
        help="who waives the batch (recorded with the waiver; default: the login name)")] = None,
    new_batches: Annotated[bool, typer.Option(
        "--new-batches", help="raw suites on the rows of the batches awaiting a verdict only "
        "(the intraday check)")] = False,
) -> None:
    """Run the Great Expectations suites (see docs/data-quality.md); a critical raw failure exits
    non-zero."""
    from billops.pipeline import check_new_batches_step, check_raw_step, check_step

    if waive is not None:
        from expectations.runner import waive_batch

        system, _, batch_id = waive.partition("/")
        if not batch_id:
            raise BillopsError(f"--waive {waive!r}: expected SYSTEM/BATCH_ID")
        waive_batch(system, batch_id, reason, by or getpass.getuser())
        out.print(f"{system}/{batch_id} waived")
        return
    if layer not in ("raw", "mart", "all"):
        raise BillopsError(f"--layer {layer!r}: expected raw, mart or all")
    if new_batches and layer != "raw":
        raise BillopsError("--new-batches checks raw suites only: add --layer raw")
    if layer in ("raw", "all"):
        _print_summary("check (raw)", check_new_batches_step() if new_batches
                       else check_raw_step())
    if layer in ("mart", "all"):
        _print_summary("check (marts)", check_step())


@app.command()
def mine(
    log_file: Annotated[Path | None, typer.Option("--log", help="external event log (CSV, CSV.GZ, Parquet, XES, XES.GZ)")] = None,
    case: Annotated[str | None, typer.Option(help="case id column of --log")] = None,
    activity: Annotated[str | None, typer.Option(help="activity column of --log")] = None,
    timestamp: Annotated[str | None, typer.Option(help="timestamp column of --log")] = None,
    resource: Annotated[str | None, typer.Option(help="resource column of --log")] = None,
    sep: Annotated[str, typer.Option(help="CSV separator")] = ",",
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    sla: Annotated[list[str] | None, typer.Option(
        "--sla", help="SLA rule [name=]SOURCE>TARGET@DURATION (s, m, h, d), repeatable")] = None,
) -> None:
    """Process mining on the warehouse event log, or on any external log."""
    chosen = tuple(sla or ())
    if chosen:
        from process_mining.measures import sla_rules

        sla_rules(get_settings(), chosen)  # a malformed rule fails before any work
    if log_file is not None:
        missing = [n for n, v in (("--case", case), ("--activity", activity),
                                  ("--timestamp", timestamp)) if not v]
        if missing:
            raise BillopsError(f"--log {log_file}: also give {', '.join(missing)}")
        if not log_file.is_file():
            raise BillopsError(f"{log_file}: event log not found")
        from process_mining.mine import mine_file

        result = mine_file(log_file, case, activity, timestamp, resource=resource, sep=sep,  # type: ignore[arg-type]
                           sla_chosen=chosen)
    else:
        from billops.pipeline import require_loaded
        from process_mining.mine import mine_warehouse

        settings = get_settings()
        require_loaded(settings)
        result = mine_warehouse(settings=settings, sla_chosen=chosen)
    if as_json:
        sys.stdout.write(json.dumps(result, default=str) + "\n")
    else:
        _print_summary("process mining", {k: result[k] for k in ("cases", "events", "activities", "variants")})


@app.command()
def score() -> None:
    """Score open reconciliation breaks and rank the work queue."""
    from billops.pipeline import score_step

    _print_summary("score", score_step())


@app.command()
def publish() -> None:
    """Atomically replace the serving snapshot that the dashboard reads."""
    from billops.pipeline import publish_step

    _print_summary("publish", publish_step())


@app.command()
def run(
    pipeline: Annotated[str, typer.Option(
        help="nightly (the default) or intraday: the steps of that DAG")] = "nightly",
    timings: Annotated[Path | None, typer.Option(
        help="also write each step's start and seconds to this JSON file")] = None,
) -> None:
    """ingest -> validate_x12 -> check_raw -> transform -> mine (beside check and the work-item
    sync) -> score -> publish: what the nightly DAG runs (``--pipeline intraday``: what the
    intraday DAG runs). Ends with each step's time."""
    from billops.pipeline import StepTime, run_all

    if pipeline not in ("nightly", "intraday"):
        raise BillopsError(f"--pipeline {pipeline}: expected nightly or intraday (month-end: "
                           "billops close --period YYYY-MM)")
    clock: dict[str, StepTime] = {}
    with _progress("billops run") as progress:
        results = run_all(progress=progress, pipeline=pipeline, timings=clock)
    for name, result in results.items():
        _print_summary(name, result)
    table = Table(title="step times (seconds)")
    for column in ("step", "began at", "took"):
        table.add_column(column)
    for name, took in clock.items():
        table.add_row(name + (" (background)" if took.background else ""),
                      f"{took.started_s:.1f}", f"{took.seconds:.1f}")
    out.print(table)
    if timings is not None:
        timings.write_text(json.dumps({name: vars(t) for name, t in clock.items()}, indent=2))
    if results.get("ingest", {}).get("blocked_alert"):  # the rest is published; still loud
        raise BillopsError(results["ingest"]["blocked_alert"])


@app.command()
def close(
    period: Annotated[str, typer.Option(help="the period to close, YYYY-MM")],
    reopen: Annotated[bool, typer.Option(help="rebuild a period that is already closed")] = False,
) -> None:
    """Write the month-end close package of a period and lock it."""
    from billops.close import close_period

    pkg = close_period(period, reopen=reopen)
    _print_summary(f"closed {pkg.period}", {"folder": pkg.folder, "accounts": pkg.accounts,
                                             "entities": pkg.entities, "files": ", ".join(pkg.files)})


phi_app = typer.Typer(help="The PHI store: audited lookups of a patient by token.", no_args_is_help=True)
app.add_typer(phi_app, name="phi")


@phi_app.command("lookup")
def phi_lookup(
    patient_key: Annotated[str, typer.Argument(help="the patient_key of the serving snapshot")],
    role: Annotated[str, typer.Option(help="the caller's role; only BILLOPS_PHI_ROLES may see PHI")],
    by: Annotated[str, typer.Option("--by", help="who asks (recorded in the audit trail)")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Show a patient's name, birth date, postal code and member ids (audited, granted or not)."""
    from billops.phi_store import lookup_patient

    patient = lookup_patient(patient_key, actor=by, role=role, channel="cli")
    if as_json:
        sys.stdout.write(json.dumps(patient) + "\n")
        return
    _print_summary(f"patient {patient_key}", patient)


@app.command()
def scorecard(
    truth: Annotated[Path, typer.Option(help="the generator's truth folder")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
) -> None:
    """Detection precision and recall per exception type against a generator's truth."""
    from billops.scorecard import scorecard as run_scorecard

    result = run_scorecard(truth)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table("exception_type", "injected", "flagged", "matched", "precision", "recall")
    for etype, row in {**result["types"], "overall": result["overall"]}.items():
        table.add_row(etype, *(str(row[k]) for k in ("injected", "flagged", "matched", "precision", "recall")))
    out.print(table)


@app.command()
def dashboard(
    port: Annotated[int, typer.Option(help="port to serve on")] = 8501,
    docs_port: Annotated[int, typer.Option(
        help="port that serves the Data Docs beside the dashboard, behind the same sign-in (0: none)")] = 8502,
) -> None:
    """Serve the Streamlit dashboard on the serving snapshot (and the Data Docs beside it), both
    behind the sign-in of `billops users`, on BILLOPS_BIND_ADDRESS (default 127.0.0.1)."""
    from billops.auth import has_users
    from dashboards.data_docs_server import URL_ENV, public_url, serve_data_docs
    from dashboards.launch import browser_host, streamlit_command

    settings = get_settings()
    host = browser_host(settings.bind_address)
    env = os.environ.copy()
    if docs_port:
        try:
            serve_data_docs(settings.data_docs, host=settings.bind_address, port=docs_port)
        except OSError as exc:
            raise BillopsError(f"--docs-port {docs_port}: cannot serve the Data Docs on "
                               f"{settings.bind_address} ({exc})") from exc
        env.setdefault(URL_ENV, public_url(docs_port, host=host))
        out.print(f"billops data docs: {env[URL_ENV]}  (sign in with your user name and token)")
    out.print(f"billops dashboard: http://{host}:{port}  (listening on {settings.bind_address}; "
              f"snapshot {settings.serving})")
    if not has_users(settings):
        console.print("no users yet: create one with `billops users add NAME --role ROLE`",
                      markup=False, highlight=False)
    raise typer.Exit(subprocess.call(
        streamlit_command(port=port, address=settings.bind_address), env=env))


users_app = typer.Typer(help="Users and roles of the dashboard's sign-in (and the API's tokens).",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
ActorOption = Annotated[str | None, typer.Option("--by", help="who makes the change (default: the login name)")]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="analyst, billing_specialist, approver or admin")],
    by: ActorOption = None,
    tier: Annotated[str | None, typer.Option(
        help="an approver's dollar tier (approval_tiers.csv; default approver)")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="read a dashboard password from standard input")] = False,
) -> None:
    """Create a user and print its API token once (only its hash is stored); with
    --password-stdin, also set its dashboard password (stored as an argon2id hash)."""
    from billops.auth import add_user

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    token = add_user(name, role, actor=by or getpass.getuser(), tier=tier, password=password)
    console.print(f"user {name} ({role}) created; its token, shown only this once:",
                  markup=False, highlight=False)
    sys.stdout.write(token + "\n")


@users_app.command("list")
def users_list(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The users, their roles and whether they are disabled (never a token or its hash)."""
    from billops.auth import list_users

    rows = [{"name": u.name, "role": u.role, "created_at": u.created_at.isoformat(),
             "created_by": u.created_by, "disabled": u.disabled} for u in list_users()]
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    table = Table("name", "role", "created_at", "created_by", "disabled")
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("name", "role", "created_at", "created_by", "disabled")))
    out.print(table)


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(help="login name")],
    by: ActorOption = None,
) -> None:
    """Disable a user: its token stops working at once, on the dashboard and the Data Docs."""
    from billops.auth import disable_user

    changed = disable_user(name, actor=by or getpass.getuser())
    out.print(f"user {name} disabled" if changed else f"user {name} was already disabled")


# Command groups kept in their own modules register here (imported last: they use this module's app).
from billops import cli_api, cli_statements, cli_workflow  # noqa: E402

for _group in (cli_workflow, cli_statements, cli_api):
    _group.register(app)

def main(argv: list[str] | None = None) -> int:
    """Entry point: one line on stderr and a non-zero exit for every user error."""
    logging.basicConfig(level=os.environ.get("BILLOPS_LOG_LEVEL", "WARNING"),
                        format="%(levelname)s %(name)s: %(message)s")
    command = typer.main.get_command(app)
    previous_umask = owner_only_umask()
    try:
        command.main(args=argv, prog_name="billops", standalone_mode=False)
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        sys.stderr.write("billops: aborted\n")
        return 130
    except UsageError as exc:
        sys.stderr.write(f"billops: {' '.join(exc.format_message().split())}\n")
        return 2
    except BillopsError as exc:
        sys.stderr.write(f"billops: {exc}\n")
        return exc.exit_code
    except Exception as exc:
        if os.environ.get("BILLOPS_DEBUG") == "1":
            raise
        sys.stderr.write(f"billops: internal error: {type(exc).__name__}: {' '.join(str(exc).split())} "
                         "(set BILLOPS_DEBUG=1 for the traceback)\n")
        return 1
    finally:
        os.umask(previous_umask)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

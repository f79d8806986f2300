"""Queries behind the Data quality page; every one reads the serving snapshot only."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from billops.config import get_settings
from dashboards import data
from dashboards.data_docs_server import URL_ENV

SCORES = ("dq", "quality_scores")
BREAKS = ("marts", "dq_breaks")
SEVERITY_ORDER = {"critical": 0, "warning": 1}


def ensure_tables() -> None:
    """SnapshotUnavailable (a warning) until a run with checks has been published."""
    data.require_relation(*SCORES)
    data.require_relation(*BREAKS)


def latest_scores() -> pd.DataFrame:
    """Per source: its latest day's score, grade, trend and failure counts."""
    return data.query(
        """select source, day, score, grade, trend, expectations, failed, critical_failed,
                  warning_failed
           from dq.quality_scores
           qualify row_number() over (partition by source order by day desc) = 1
           order by source"""
    )


def score_history() -> pd.DataFrame:
    """Every source's score per day, for the trend chart."""
    return data.query(
        "select source, day, score, grade from dq.quality_scores order by source, day"
    )


def breaks_by_team() -> pd.DataFrame:
    """Open breaks per owner team and severity, with the rows they affect."""
    return data.query(
        """select owner_team, severity, count(*) as breaks,
                  coalesce(sum(unexpected_count), 0) as rows_affected
           from marts.dq_breaks where status = 'OPEN'
           group by all order by owner_team, severity"""
    )


def open_breaks(teams: tuple[str, ...] = ()) -> pd.DataFrame:
    """The open breaks, critical first, optionally for some owner teams only."""
    where, params = "where status = 'OPEN'", []
    if teams:
        where += f" and owner_team in ({', '.join('?' for _ in teams)})"
        params = list(teams)
    frame = data.query(
        f"""select severity, owner_team, source, data_asset, rule, unexpected_count,
                   unexpected_percent, first_failed_at, runs_failing, unexpected_sample
            from marts.dq_breaks {where}
            order by case severity when 'critical' then 0 else 1 end, owner_team, data_asset,
                     rule""",
        params,
    )
    return frame


QUARANTINE = ("marts", "dq_quarantine")


def held_units() -> pd.DataFrame:
    """The units held back from the marts (and those released), HELD first, with their dollars.
    Empty when the snapshot predates the quarantine."""
    if not data.has_relation(*QUARANTINE):
        return pd.DataFrame()
    return data.query(
        """select status, owner_team, system, batch_id, file, unit, unit_key, rule, reason,
                  amount, rows_held, first_seen_at, released_at, release_reason
           from marts.dq_quarantine
           order by case status when 'HELD' then 0 else 1 end, owner_team, first_seen_at,
                    batch_id, file, unit_key"""
    )


VERDICTS = ("dq", "batch_quality")


def batch_verdicts() -> pd.DataFrame:
    """Batches whose latest verdict is FAILED (blocking) or WAIVED, failed first, newest first,
    with who waived it and why. Empty when the snapshot predates the verdicts."""
    if not data.has_relation(*VERDICTS):
        return pd.DataFrame()
    return data.query(
        """select system, batch_id, arg_max(dq_status, checked_at) as status,
                  arg_max(actor, checked_at) as waived_by, arg_max(reason, checked_at) as reason,
                  max(checked_at) as decided_at
           from dq.batch_quality group by system, batch_id
           having arg_max(dq_status, checked_at) in ('FAILED', 'WAIVED')
           order by case arg_max(dq_status, checked_at) when 'FAILED' then 0
                         else 1 end, decided_at desc, system, batch_id"""
    )


def data_docs_index() -> Path | None:
    """The Data Docs index beside the snapshot's BILLOPS_HOME, when it has been built."""
    index = Path(get_settings().data_docs).absolute() / "index.html"
    return index if index.exists() else None


def data_docs_url() -> str | None:
    """Where ``billops dashboard`` serves the Data Docs over HTTP, when it does."""
    return os.environ.get(URL_ENV) or None

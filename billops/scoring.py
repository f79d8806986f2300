"""Work-queue priorities for accounts whose charges and claims do not tie out.

Until the governed denial model lands, the priority is an explicit rule, recorded as the method:
dollars at risk (unbilled charges, lines billed without a charge, and the amount difference on
matched lines) weighted by age against the as-of time, so old, large breaks come first. The mart
``marts.fct_account_reconciliation`` computes amount_at_risk, age_days and priority_score (the dbt
macro ``priority_score``); this module ranks its accounts into ``ml.account_priorities``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from billops.config import Settings, get_settings
from billops.errors import BillopsError
from billops.warehouse import connect

METHOD = "rule:amount_at_risk*log(2+age_days)"


@dataclass
class ScoreResult:
    accounts_scored: int
    method: str
    as_of: str | None


def score(settings: Settings | None = None) -> ScoreResult:
    settings = settings or get_settings()
    with connect(settings) as con:
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'marts' "
            "and table_name = 'fct_account_reconciliation'"
        ).fetchone()[0]
        if not exists:
            raise BillopsError(
                f"{settings.warehouse}: marts.fct_account_reconciliation not built; "
                "run 'billops transform' first"
            )
        con.execute("create schema if not exists ml")
        con.execute(
            """
            create or replace table ml.account_priorities as
            select account_id, entity, payer_id, recon_status, amount_at_risk,
                   cast(age_days as bigint) as age_days, priority_score,
                   row_number() over (order by priority_score desc, account_id) as priority_rank,
                   ? as method, as_of, ? as scored_at
            from marts.fct_account_reconciliation
            where recon_status <> 'TIED'
            """,
            [METHOD, datetime.now(UTC).replace(tzinfo=None)],
        )
        n, as_of = con.execute(
            "select count(*), max(as_of) from ml.account_priorities"
        ).fetchone()
    return ScoreResult(accounts_scored=n, method=METHOD, as_of=str(as_of) if as_of else None)

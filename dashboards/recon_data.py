"""Queries behind the Reconciliation page, over ``marts.fct_account_reconciliation``.

Amount at risk of an account counts each dollar once: charges on no claim line, claim lines with
no EHR charge, and the absolute amount difference on lines matched by charge id. (The plain
``unbilled_amount + abs(variance_amount)`` would count an unbilled charge twice, since the
variance already holds it.)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import data

MART_SCHEMA = "marts"
MART_TABLE = "fct_account_reconciliation"
MART = f"{MART_SCHEMA}.{MART_TABLE}"

# Contract order: TIED, then the precedence of the exception statuses.
STATUSES = ("TIED", "UNBILLED", "PARTIALLY_BILLED", "BILLED_WITHOUT_CHARGE", "AMOUNT_VARIANCE")
ALL_STATUSES = "All statuses"
NO_VALUE = "(none)"
NOT_TIED_LIMIT = 1000

_AMOUNT_DIFF = (
    "abs(coalesce(matched_amount, 0) "
    "- (coalesce(billed_amount, 0) - coalesce(billed_not_charged_amount, 0)))"
)
# Computed once, in the mart (fct_account_reconciliation.amount_at_risk).
AMOUNT_AT_RISK = "coalesce(amount_at_risk, 0)"
_STATUS_RANK = "coalesce(list_position(?, recon_status), 99)"

FILTER_COLUMNS = {
    "entity": "entity",
    "period": "period",
    "recon_status": "recon_status",
    "payer_id": "payer_id",
}


@dataclass(frozen=True)
class ReconFilters:
    """Selected values per filter column; an empty selection means every value."""

    entities: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    payers: tuple[str, ...] = ()

    def where(self) -> tuple[str, list[object]]:
        """SQL ``where`` clause (or "") and its parameters. Nulls match the (none) option."""
        clauses: list[str] = []
        params: list[object] = []
        for column, values in (
            ("entity", self.entities),
            ("period", self.periods),
            ("recon_status", self.statuses),
            ("payer_id", self.payers),
        ):
            if values:
                marks = ", ".join("?" for _ in values)
                clauses.append(f"coalesce({column}, '{NO_VALUE}') in ({marks})")
                params.extend(values)
        return ("where " + " and ".join(clauses)) if clauses else "", params


@dataclass(frozen=True)
class ReconTotals:
    """Headline numbers of the selected accounts."""

    accounts: int
    charge_amount: float
    billed_amount: float
    unbilled_amount: float
    variance_amount: float
    amount_at_risk: float
    not_tied_accounts: int


def ensure_mart() -> int:
    """Raise SnapshotUnavailable unless the mart exists; return its number of accounts."""
    data.require_relation(MART_SCHEMA, MART_TABLE)
    return int(data.query(f"select count(*) as n from {MART}")["n"].iloc[0])


def filter_options() -> dict[str, list[str]]:
    """Distinct values of each filter column over the whole mart, statuses in contract order."""
    options: dict[str, list[str]] = {}
    for key, column in FILTER_COLUMNS.items():
        frame = data.query(
            f"select distinct coalesce({column}, '{NO_VALUE}') as v from {MART} order by v"
        )
        options[key] = [str(v) for v in frame["v"]]
    known = [s for s in STATUSES if s in options["recon_status"]]
    options["recon_status"] = known + [s for s in options["recon_status"] if s not in STATUSES]
    return options


def mart_as_of() -> pd.Timestamp | None:
    """The data's as-of time recorded in the mart (used when meta.snapshot is absent)."""
    value = data.query(f"select max(as_of) as as_of from {MART}")["as_of"].iloc[0]
    return None if pd.isna(value) else pd.Timestamp(value)


def totals(filters: ReconFilters) -> ReconTotals:
    """Sums over the selected accounts."""
    where, params = filters.where()
    row = data.query(
        f"""
        select count(*) as accounts,
               coalesce(sum(charge_amount), 0) as charge_amount,
               coalesce(sum(billed_amount), 0) as billed_amount,
               coalesce(sum(unbilled_amount), 0) as unbilled_amount,
               coalesce(sum(variance_amount), 0) as variance_amount,
               coalesce(sum({AMOUNT_AT_RISK}), 0) as amount_at_risk,
               count(*) filter (where recon_status is distinct from 'TIED') as not_tied_accounts
        from {MART} {where}
        """,
        params,
    ).iloc[0]
    return ReconTotals(
        accounts=int(row["accounts"]),
        charge_amount=float(row["charge_amount"]),
        billed_amount=float(row["billed_amount"]),
        unbilled_amount=float(row["unbilled_amount"]),
        variance_amount=float(row["variance_amount"]),
        amount_at_risk=float(row["amount_at_risk"]),
        not_tied_accounts=int(row["not_tied_accounts"]),
    )


def entity_breakdown(filters: ReconFilters) -> pd.DataFrame:
    """Per entity, the stacked parts of the chart: billed (matched / without charge) and at risk.

    Long format: entity, component, amount.
    """
    where, params = filters.where()
    wide = data.query(
        f"""
        select coalesce(entity, '{NO_VALUE}') as entity,
               sum(coalesce(billed_amount, 0) - coalesce(billed_not_charged_amount, 0))
                   as "Billed, matched to charges",
               sum(coalesce(billed_not_charged_amount, 0)) as "Billed without charge",
               sum(coalesce(unbilled_amount, 0)) as "Unbilled",
               sum({_AMOUNT_DIFF}) as "Amount variance (abs)"
        from {MART} {where}
        group by all
        order by entity
        """,
        params,
    )
    return wide.melt(id_vars="entity", var_name="component", value_name="amount")


def entity_status_summary(filters: ReconFilters) -> pd.DataFrame:
    """Sums per entity and status, with an entity subtotal row (status "All statuses") first."""
    where, params = filters.where()
    return data.query(
        f"""
        select coalesce(entity, '{NO_VALUE}') as entity,
               case when grouping(recon_status) = 1 then '{ALL_STATUSES}'
                    else coalesce(recon_status, '{NO_VALUE}') end as recon_status,
               count(*) as accounts,
               sum(charge_amount) as charge_amount,
               sum(billed_amount) as billed_amount,
               sum(unbilled_amount) as unbilled_amount,
               sum(variance_amount) as variance_amount,
               sum({AMOUNT_AT_RISK}) as amount_at_risk
        from {MART} {where}
        group by grouping sets ((entity, recon_status), (entity))
        order by entity, grouping(recon_status) desc, {_STATUS_RANK}, recon_status
        """,
        [*params, list(STATUSES)],
    )


def not_tied_accounts(filters: ReconFilters, limit: int = NOT_TIED_LIMIT) -> pd.DataFrame:
    """Accounts that are not TIED, the most at risk first. No patient columns (PHI-free)."""
    where, params = filters.where()
    condition = "recon_status is distinct from 'TIED'"
    where = f"{where} and {condition}" if where else f"where {condition}"
    return data.query(
        f"""
        select account_id, entity, facility_id, payer_id, period, service_date, recon_status,
               {AMOUNT_AT_RISK} as amount_at_risk,
               charge_amount, billed_amount, unbilled_amount, billed_not_charged_amount,
               variance_amount, charge_lines, billed_lines, unbilled_lines,
               billed_not_charged_lines, claim_count, last_submitted_at
        from {MART} {where}
        order by amount_at_risk desc, account_id
        limit ?
        """,
        [*params, limit],
    )

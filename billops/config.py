"""Settings from environment variables with the prefix ``BILLOPS_`` (see docs/architecture.md)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The billing event log's activities (docs/process-mining.md; docs/architecture.md, "Event log").
EVENT_ACTIVITIES = (
    "REGISTERED",
    "ELIGIBILITY_CHECKED",
    "AUTH_OBTAINED",
    "CHARGE_POSTED",
    "CLAIM_CREATED",
    "SCRUBBER_FAILED",
    "CLAIM_SUBMITTED",
    "CLAIM_ACCEPTED",
    "CLAIM_REJECTED",
    "REMIT_RECEIVED",
    "DENIED",
    "APPEALED",
    "PAYMENT_POSTED",
    "GL_POSTED",
    "DEPOSITED",
    "STATEMENT_SENT",
    "PATIENT_PAID",
    "REFUNDED",
    "WRITTEN_OFF",
    "CLOSED",
)

CLAIM_EVENT_ACTIVITIES = {
    "SUBMITTED": "CLAIM_SUBMITTED",
    "CREATED": "CLAIM_CREATED",
    "CLAIM_CREATED": "CLAIM_CREATED",
    "SCRUBBED": "CLAIM_SCRUBBED",
    "SCRUBBER_FAILED": "SCRUBBER_FAILED",
    "SCRUBBER_FAIL": "SCRUBBER_FAILED",
    "SCRUB_FAILED": "SCRUBBER_FAILED",
    "ACCEPTED": "CLAIM_ACCEPTED",
    "CLAIM_ACCEPTED": "CLAIM_ACCEPTED",
    "REJECTED": "CLAIM_REJECTED",
    "CLAIM_REJECTED": "CLAIM_REJECTED",
    "APPEAL": "APPEALED",
    "APPEALED": "APPEALED",
    "APPEAL_FILED": "APPEALED",
    "AUTH_OBTAINED": "AUTH_OBTAINED",
    "WRITE_OFF": "WRITTEN_OFF",
    "WRITTEN_OFF": "WRITTEN_OFF",
    "CLOSED": "CLOSED",
}

# The settings that reach the dbt rules as vars (``billops.transform.dbt_vars``), under the CLI and
# under Airflow alike; dbt_project.yml repeats their defaults for a bare ``dbt build`` and a test
# keeps the two equal.
RULE_VARS = (
    "billing_window_days",
    "follow_up_window_days",
    "late_charge_window_days",
    "gl_posting_lag_days",
    "deposit_lag_days",
    "underpayment_tolerance",
    "write_off_approval_threshold",
    "repeat_procedure_modifiers",
    "non_billable_charge_statuses",
    "denied_claim_status_codes",
    "reversal_claim_status_codes",
    "secondary_claim_status_codes",
    "self_pay_payer_types",
    "write_off_account_types",
    "eligibility_link_days",
    "statement_cycle_days",
    "claim_event_activities",
)


class Settings(BaseSettings):
    """Paths and rule settings. Paths default relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="BILLOPS_", extra="ignore")

    home: Path = Field(default=Path("data"))
    landing: Path | None = None
    warehouse: Path | None = None
    serving: Path | None = None
    quarantine: Path | None = None
    close: Path | None = None
    statements: Path | None = None
    lake: Path | None = None
    ops_url: str | None = None

    # Rule settings (days / dollars); detection reads these, never generator constants.
    billing_window_days: int = 7
    follow_up_window_days: int = 30
    # A charge entered more than this many days after its account's claim went out is a LATE_CHARGE.
    late_charge_window_days: int = 3
    # Modifiers that mark a legitimate repeat of a service (never a DUPLICATE_CHARGE); a list, set
    # as JSON: BILLOPS_REPEAT_PROCEDURE_MODIFIERS='["76", "77", "59", "91"]'.
    repeat_procedure_modifiers: list[str] = Field(default_factory=lambda: ["76", "77", "59", "91"])
    # An 835 payment may reach the GL and the bank this many days after its payment date (BPR16)
    # before REMIT_NOT_IN_GL / DEPOSIT_MISMATCH are raised (counted against the as-of time).
    gl_posting_lag_days: int = 5
    deposit_lag_days: int = 5
    underpayment_tolerance: float = 1.00
    write_off_approval_threshold: float = 1000.00
    # --- Vocabularies: allowed values the raw checks and the rules read (an unknown value warns on
    # its record). Lists and maps are set as JSON, e.g. BILLOPS_ELIGIBILITY_STATUSES='["ACTIVE"]'.
    # Procedure codes: HCPCS Level II (public) or Level I (CPT, five characters, licensed: billops
    # accepts the values and ships no list).
    procedure_code_pattern: str = r"^(?:[A-V][0-9]{4}|[0-9]{4}[0-9A-Z])$"
    # 835 SVC01-2 may also carry a revenue code (NUBC values, four digits, or five with a zero).
    remittance_procedure_code_pattern: str = r"^(?:[A-V][0-9]{4}|[0-9]{4}[0-9A-Z]|[0-9]{4,5})$"
    eligibility_statuses: list[str] = Field(
        default_factory=lambda: ["ACTIVE", "INACTIVE", "NOT_FOUND"]
    )
    # chart_of_accounts.csv account_type values; GL accounts are found by type, never by number.
    gl_account_types: list[str] = Field(
        default_factory=lambda: [
            "CASH", "PATIENT_AR", "GROSS_REVENUE", "CONTRACTUAL_ALLOWANCE", "WRITE_OFF",
            "REFUNDS_PAYABLE", "BAD_DEBT", "OTHER",
        ]
    )
    gl_period_pattern: str = r"^[0-9]{4}-(?:0[1-9]|1[0-2])$"
    # CLM05-3: 1 original; 2, 3, 4 interim and 5 late charges (they add to their claim); 7
    # replacement; 8 void.
    claim_frequency_codes: list[str] = Field(
        default_factory=lambda: ["1", "2", "3", "4", "5", "7", "8"]
    )
    # ChargeItem statuses that are not billable charges (FHIR R4 ChargeItem.status).
    non_billable_charge_statuses: list[str] = Field(
        default_factory=lambda: ["entered-in-error", "aborted", "not-billable", "planned"]
    )
    # 835 CLP02 claim status codes: denied; a reversal of an earlier payment; paid as secondary
    # or tertiary payer (judged against the primary's contract only through the primary's CLP).
    denied_claim_status_codes: list[str] = Field(default_factory=lambda: ["4"])
    reversal_claim_status_codes: list[str] = Field(default_factory=lambda: ["22"])
    secondary_claim_status_codes: list[str] = Field(
        default_factory=lambda: ["2", "3", "20", "21"]
    )
    # payers.csv payer_type values of uninsured (self-pay) coverage: the patient is billed by
    # statement, so its charges are never unbilled.
    self_pay_payer_types: list[str] = Field(default_factory=lambda: ["SELF_PAY"])
    # GL account types whose debits are write-offs needing approval above the threshold.
    write_off_account_types: list[str] = Field(default_factory=lambda: ["WRITE_OFF"])
    # Eligibility checks link to the patient's account whose start is nearest, within these days.
    eligibility_link_days: int = 30
    # The statement release gate (docs/statements.md): an account's latest statement is due when
    # produced within this many days before the as-of date.
    statement_cycle_days: int = 30
    # claim_events.csv event_type (compared upper-cased) -> event-log activity; a type neither
    # listed nor an activity itself warns on its record and is logged upper-cased. Types whose
    # activity the log takes from the source documents (837, 835, GL, bank, statements, payments)
    # are left out so the log does not hold them twice.
    claim_event_activities: dict[str, str] = Field(
        default_factory=lambda: dict(CLAIM_EVENT_ACTIVITIES)
    )

    # --- Security (docs/security.md). Servers bind here; "0.0.0.0" exposes them to the network.
    bind_address: str = "127.0.0.1"
    # Roles that may see a patient's name, birth date, address or member id, through the audited
    # lookup of the PHI store (billops.phi_store); every other role sees masked values.
    phi_roles: list[str] = Field(default_factory=lambda: ["billing_specialist"])
    # The HTTP API's rate limit per bearer token (a token bucket, docs/api.md): this many
    # requests a minute on average, and at most the burst at once; beyond it, 429 + Retry-After.
    api_rate_limit_per_minute: float = 600.0
    api_rate_limit_burst: int = 60
    # --- Hostile input (docs/security.md, docs/ingestion.md). A line (CSV, NDJSON) or an X12
    # segment longer than this is rejected as one record, never buffered whole.
    max_record_bytes: int = 1_000_000
    # Which validator `billops validate-x12` runs on the PENDING X12 files (docs/ingestion.md):
    # "billops" (billops.sources.x12.ig, driven by pyx12's maps; about 30 times faster) or
    # "pyx12" (the reference it is tested against).
    x12_validator: Literal["pyx12", "billops"] = "billops"
    # `billops check` hands about half of the suites to a second process when their tables hold
    # at least this many rows (docs/data-quality.md); below it, starting that process (Great
    # Expectations' import, about 5 s) costs more than it saves.
    check_share_rows: int = Field(default=200_000, ge=0)
    # JSON nested deeper than this is rejected with its record.
    max_json_depth: int = 64
    # A batch's extracted_at must lie within this many hours of its batch id, and never beyond
    # the run's own clock plus the same skew.
    batch_clock_skew_hours: float = 24.0
    # A system's batch that cannot load (quarantined file, folder without a manifest) blocks the
    # system's later batches where order matters; after this many hours the run exits non-zero
    # and raises a DQ break naming the blocking batch.
    blocked_batch_wait_hours: float = 2.0

    # SLA rules for process mining, "name=SOURCE>TARGET@36h;..." (units s, m, h, d); empty means
    # charge-to-submission within the billing window and submission-to-remit within follow-up.
    sla_rules: str = ""

    # --- Work-item service levels (docs/workflow.md): an SLA counts business hours of this
    # calendar, from the data's as-of time, never the wall clock.
    business_timezone: str = "UTC"
    business_day_start_hour: int = 8
    business_day_end_hour: int = 17
    # Monday = 0 ... Sunday = 6.
    business_weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    business_holidays: list[date] = Field(default_factory=list)

    def model_post_init(self, __context: object) -> None:
        home = self.home
        self.landing = self.landing or home / "landing"
        self.warehouse = self.warehouse or home / "warehouse" / "billops.duckdb"
        self.serving = self.serving or home / "warehouse" / "serving.duckdb"
        self.quarantine = self.quarantine or home / "quarantine"
        self.close = self.close or home / "close"
        self.statements = self.statements or home / "statements"
        self.lake = self.lake or home / "lake"
        self.ops_url = self.ops_url or f"sqlite:///{home / 'ops.sqlite'}"

    @property
    def raw_zone(self) -> Path:
        assert self.lake is not None
        return self.lake / "raw"

    @property
    def data_docs(self) -> Path:
        return self.home / "data_docs"


@lru_cache(maxsize=1)
def _cached() -> Settings:
    return Settings()


def get_settings(fresh: bool = False) -> Settings:
    """Current settings; ``fresh=True`` re-reads the environment (tests change it)."""
    if fresh:
        _cached.cache_clear()
    return _cached()


def known_activities(settings: Settings | None = None) -> list[str]:
    """Every activity the event log may hold: the contract's and the mapped claim events'."""
    mapped = (settings or get_settings()).claim_event_activities.values()
    return sorted(set(EVENT_ACTIVITIES) | set(mapped))


def known_event_types(settings: Settings | None = None) -> list[str]:
    """claim_events.csv event types (upper-cased) that map to an activity or are one."""
    return sorted(set((settings or get_settings()).claim_event_activities) | set(EVENT_ACTIVITIES))

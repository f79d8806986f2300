"""Settings from environment variables with the prefix ``BILLOPS_`` (see docs/architecture.md)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Paths and rule settings. Paths default relative to the working directory."""

    model_config = SettingsConfigDict(env_prefix="BILLOPS_", extra="ignore")

    home: Path = Field(default=Path("data"))
    landing: Path | None = None
    warehouse: Path | None = None
    serving: Path | None = None
    quarantine: Path | None = None
    close: Path | None = None
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
    # SLA rules for process mining, "name=SOURCE>TARGET@36h;..." (units s, m, h, d); empty means
    # charge-to-submission within the billing window and submission-to-remit within follow-up.
    sla_rules: str = ""

    def model_post_init(self, __context: object) -> None:
        home = self.home
        self.landing = self.landing or home / "landing"
        self.warehouse = self.warehouse or home / "warehouse" / "billops.duckdb"
        self.serving = self.serving or home / "warehouse" / "serving.duckdb"
        self.quarantine = self.quarantine or home / "quarantine"
        self.close = self.close or home / "close"
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

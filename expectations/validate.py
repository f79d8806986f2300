"""Validate a pandas frame against a suite with an ephemeral Great Expectations context.

GX's SQL datasource does not work on DuckDB, so tables are read into pandas first and validated
through GX's pandas datasource. GX is imported here, inside functions, because its import is slow
and noisy; ``import expectations`` stays cheap.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from expectations.spec import PHI_COLUMNS, Rule, SuiteSpec

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the shape of a ``dq.validation_results`` row."""

    suite: str
    data_asset: str
    rule: str
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_unique
    column_name: str | None
    kwargs: str  # JSON
    severity: str
    owner_team: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    unexpected_sample: str  # JSON list, at most SAMPLE_SIZE values, never PHI
    error: str | None = None


def _gx() -> Any:
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


class FrameValidator:
    """One ephemeral GX context (in memory, no analytics, no progress bars) reused per run."""

    def __init__(self) -> None:
        gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self._gx = gx
        self._context = gx.get_context(project_config=config, mode="ephemeral")
        asset = self._context.data_sources.add_pandas("billops").add_dataframe_asset("frame")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole_frame")

    def validate(self, frame: pd.DataFrame, spec: SuiteSpec,
                 as_of: datetime | None = None) -> list[ExpectationOutcome]:
        """Runs every rule of ``spec`` on ``frame`` (prepared here) and returns one outcome each."""
        import great_expectations.expectations as gxe

        rules = spec.rules(as_of)
        suite = self._gx.ExpectationSuite(name=spec.name)
        for rule in rules:
            expectation_class = getattr(gxe, rule.expectation)
            suite.add_expectation(expectation_class(**rule.kwargs, meta=rule.meta))
        batch = self._batch_definition.get_batch(batch_parameters={"dataframe": spec.prepare(frame)})
        result = batch.validate(suite, result_format={
            "result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE})
        by_rule = {r.expectation_config.meta["rule"]: r for r in result.results}
        return [_outcome(spec, rule, by_rule[rule.name]) for rule in rules]


def _outcome(spec: SuiteSpec, rule: Rule, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = str(result.exception_info.get("exception_message") or "expectation raised")
        error = " ".join(message.split())[:300]
    phi = [c for c in rule.columns if c in PHI_COLUMNS]
    sample = [] if phi else [_jsonable(v) for v in details.get("partial_unexpected_list") or []]
    return ExpectationOutcome(
        suite=spec.name,
        data_asset=spec.data_asset,
        rule=rule.name,
        expectation=config.type,
        column_name=",".join(rule.columns) or None,
        kwargs=_kwargs_json(rule),
        severity=rule.severity,
        owner_team=rule.owner_team,
        success=bool(result.success),
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_sample=json.dumps(sample[:SAMPLE_SIZE]),
        error=error,
    )


def failed_without_result(spec: SuiteSpec, rule: Rule, error: str) -> ExpectationOutcome:
    """The outcome of a rule that could not run (e.g. its table lacks a contract column)."""
    return ExpectationOutcome(
        suite=spec.name, data_asset=spec.data_asset, rule=rule.name,
        expectation=re.sub(r"(?<!^)(?=[A-Z])", "_", rule.expectation).lower(),
        column_name=",".join(rule.columns) or None, kwargs=_kwargs_json(rule),
        severity=rule.severity, owner_team=rule.owner_team, success=False, element_count=None,
        unexpected_count=None, unexpected_sample="[]", error=error,
    )


def _kwargs_json(rule: Rule) -> str:
    return json.dumps(rule.kwargs, default=_jsonable, sort_keys=True)


def _jsonable(value: Any) -> Any:
    """JSON-safe form of a sample value (numpy scalars, timestamps, pairs, NaN)."""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(pd.Timestamp(value).isoformat())
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)

"""Validate a pandas frame against a suite with an ephemeral Great Expectations context.

GX's SQL datasource does not work on DuckDB, so tables are read into pandas first and validated
through GX's pandas datasource. GX is imported here, inside functions, because its import is slow
and noisy; ``import expectations`` stays cheap.

With a ``docs_dir`` each suite runs as a GX checkpoint whose results go to a filesystem store
(``store_dir``, kept across runs so the Data Docs index shows history) and whose
``UpdateDataDocsAction`` renders the result into the static Data Docs site; without one (tests,
ad-hoc checks) the frame is validated directly.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expectations.masking import mask_result, phi_columns, tests_phi
from expectations.spec import MASK, Rule, SuiteSpec

SAMPLE_SIZE = 20


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in the shape of a ``dq.expectation_results`` row."""

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
    unexpected_sample: str  # JSON list of failing rows {column: value} with keys; PHI masked
    error: str | None = None
    unexpected_percent: float | None = None
    source: str = "marts"
    layer: str = "mart"
    scope: str = "warn"  # block | quarantine | warn (expectations.spec.SCOPES)
    # Every failing row's keys (lineage and unit key), for a failed quarantine rule on raw data.
    failing_rows: tuple[dict[str, Any], ...] = ()


def _gx() -> Any:
    for name in ("great_expectations", "great_expectations.core", "py.warnings"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import great_expectations as gx

    return gx


def _in_memory() -> dict[str, str]:
    return {"class_name": "InMemoryStoreBackend"}


class FrameValidator:
    """One ephemeral GX context (no analytics, no progress bars) reused for a whole run."""

    def __init__(self, docs_dir: Path | None = None, store_dir: Path | None = None) -> None:
        gx = _gx()
        from great_expectations.data_context.types.base import DataContextConfig, ProgressBarsConfig

        from expectations.custom import register

        register()
        validations_backend: dict[str, Any] = _in_memory()
        sites: dict[str, Any] = {}
        if docs_dir is not None:
            store_dir = store_dir or docs_dir.parent / "gx" / "validations"
            validations_backend = {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(store_dir),
            }
            sites = {
                "billops": {
                    "class_name": "SiteBuilder",
                    "show_how_to_buttons": False,
                    "store_backend": {
                        "class_name": "TupleFilesystemStoreBackend",
                        "base_directory": str(docs_dir),
                    },
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                }
            }
        config = DataContextConfig(
            stores={
                "expectations_store": {
                    "class_name": "ExpectationsStore",
                    "store_backend": _in_memory(),
                },
                "validation_results_store": {
                    "class_name": "ValidationResultsStore",
                    "store_backend": validations_backend,
                },
                "checkpoint_store": {
                    "class_name": "CheckpointStore",
                    "store_backend": _in_memory(),
                },
                "validation_definition_store": {
                    "class_name": "ValidationDefinitionStore",
                    "store_backend": _in_memory(),
                },
            },
            expectations_store_name="expectations_store",
            validation_results_store_name="validation_results_store",
            checkpoint_store_name="checkpoint_store",
            data_docs_sites=sites,
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self._gx = gx
        self._docs = docs_dir is not None
        self.docs_dir = docs_dir
        self._context = gx.get_context(project_config=config, mode="ephemeral")
        self._datasource = self._context.data_sources.add_pandas("billops_warehouse")
        self._batch_definitions: dict[str, Any] = {}
        self._stored: list[Any] = []

    def _batch_definition(self, data_asset: str) -> Any:
        if data_asset not in self._batch_definitions:
            asset = self._datasource.add_dataframe_asset(data_asset)
            self._batch_definitions[data_asset] = asset.add_batch_definition_whole_dataframe(
                "whole_table"
            )
        return self._batch_definitions[data_asset]

    def _suite(self, spec: SuiteSpec, rules: list[Rule]) -> Any:
        import great_expectations.expectations as gxe

        from expectations.custom import register

        custom = register()
        suite = self._gx.ExpectationSuite(
            name=spec.name,
            meta={"data_asset": spec.data_asset, "source": spec.source, "layer": spec.layer},
        )
        for rule in rules:
            expectation_class = custom.get(rule.expectation) or getattr(gxe, rule.expectation)
            suite.add_expectation(expectation_class(**rule.kwargs, meta=rule.meta))
        return suite

    def validate(
        self,
        frame: pd.DataFrame,
        spec: SuiteSpec,
        as_of: datetime | None = None,
        run_id: str | None = None,
    ) -> list[ExpectationOutcome]:
        """Runs every rule of ``spec`` on ``frame`` (prepared here) and returns one outcome each."""
        rules = spec.rules(as_of)
        unprepared: list[ExpectationOutcome] = []
        try:
            frame = spec.prepare(frame)
        except (KeyError, ValueError, TypeError) as exc:
            # A frame the suite cannot prepare (e.g. a contract column is missing): table-level
            # rules still get GX's verdict; every other rule fails with the reason.
            error = f"{spec.data_asset}: cannot prepare for checks ({type(exc).__name__}: {exc})"
            unprepared = [failed_without_result(spec, r, error) for r in rules if r.row_level]
            rules = [r for r in rules if not r.row_level]
        keys = [k for k in spec.keys if k in frame.columns]
        result_format: dict[str, Any] = {
            "result_format": "SUMMARY",
            "partial_unexpected_count": SAMPLE_SIZE,
        }
        if keys:
            result_format["unexpected_index_column_names"] = keys
        batch_definition = self._batch_definition(spec.data_asset)
        suite = self._suite(spec, rules)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format)
        mask_result(result, spec, rules)  # before the result is stored, rendered or sampled
        if self._docs:
            self._store(spec, suite, result, batch.id, run_id)
        by_rule = {r.expectation_config.meta["rule"]: r for r in result.results}
        done = {o.rule: o for o in unprepared}
        done.update({rule.name: _outcome(spec, rule, by_rule[rule.name]) for rule in rules})
        if spec.layer == "raw":
            failed = [r for r in rules if r.scope == "quarantine" and not done[r.name].success]
            for rule, rows in self._failing_rows(batch, spec, failed, keys).items():
                done[rule] = replace(done[rule], failing_rows=rows)
        return [done[rule.name] for rule in spec.rules(as_of)]

    def _failing_rows(
        self, batch: Any, spec: SuiteSpec, rules: list[Rule], keys: list[str]
    ) -> dict[str, tuple[dict[str, Any], ...]]:
        """Every failing row of the failed quarantine ``rules``, by their keys.

        The first pass keeps a sample of 20; a quarantine must hold back every failing unit, so
        only these rules run again with GX's COMPLETE result format.
        """
        if not rules or not keys:
            return {}
        suite = self._suite(spec, rules)
        result = batch.validate(
            suite,
            result_format={
                "result_format": "COMPLETE",
                "unexpected_index_column_names": keys,
                "return_unexpected_index_query": False,
            },
        )
        found: dict[str, tuple[dict[str, Any], ...]] = {}
        hidden = phi_columns(spec)  # units are held by lineage and unit keys, never PHI
        for r in result.results:
            rows = (r.result or {}).get("unexpected_index_list") or []
            found[r.expectation_config.meta["rule"]] = tuple(
                {str(k): MASK if k in hidden else _jsonable(v) for k, v in row.items()}
                for row in rows if isinstance(row, dict)
            )
        return found

    def _store(
        self, spec: SuiteSpec, suite: Any, result: Any, batch_id: str, run_id: str | None
    ) -> None:
        """Keeps the result in the validations store for the Data Docs built by ``build_docs``."""
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        self._context.suites.add_or_update(suite)
        run = RunIdentifier(run_name=run_id or spec.name, run_time=datetime.now(UTC))
        result.meta["run_id"] = run
        result.meta["active_batch_definition"] = {"data_asset_name": spec.data_asset}
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=spec.name),
            run_id=run,
            batch_identifier=batch_id,
        )
        self._context.validation_results_store.set(key, result)
        self._stored.append(key)

    def build_docs(self, index: bool = True, also: tuple[tuple[SuiteSpec, datetime | None], ...] = ()
                   ) -> Path | None:
        """Renders this run's results (and, with ``index``, the index over every stored run) into
        Data Docs. ``also`` names suites validated elsewhere in the same check (by another
        helper process) that the index lists beside this context's own.

        Only the new results are rendered, so a long history does not slow the nightly run.
        """
        if not self._docs or not (self._stored or (index and also)):
            return None
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
        )

        for spec, as_of in also:
            self._context.suites.add_or_update(self._suite(spec, spec.rules(as_of)))
        suites = {k.expectation_suite_identifier.name for k in self._stored}
        identifiers = [*self._stored, *(ExpectationSuiteIdentifier(name=n) for n in sorted(suites))]
        self._context.build_data_docs(resource_identifiers=identifiers, build_index=index)
        self._stored = []
        return self.index_page()

    def index_page(self) -> Path | None:
        return self.docs_dir / "index.html" if self.docs_dir else None


def _outcome(spec: SuiteSpec, rule: Rule, result: Any) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = str(result.exception_info.get("exception_message") or "expectation raised")
        error = " ".join(message.split())[:300]
    success = bool(result.success)
    sample = [] if success else _sample(spec, rule, details)
    percent = details.get("unexpected_percent")
    return ExpectationOutcome(
        suite=spec.name,
        data_asset=spec.data_asset,
        rule=rule.name,
        expectation=config.type,
        column_name=",".join(rule.columns) or None,
        kwargs=_kwargs_json(rule),
        severity=rule.severity,
        owner_team=rule.owner_team,
        success=success,
        element_count=details.get("element_count"),
        unexpected_count=details.get("unexpected_count"),
        unexpected_sample=json.dumps(sample[:SAMPLE_SIZE]),
        error=error,
        unexpected_percent=None if percent is None else round(float(percent), 6),
        source=spec.source,
        layer=spec.layer,
        scope=rule.scope,
    )


def _sample(spec: SuiteSpec, rule: Rule, details: dict[str, Any]) -> list[Any]:
    """Failing rows as {column: value} with the suite's keys; PHI values masked (again: the
    result was masked by ``mask_result``, and a sample must hold no PHI whoever calls this).

    Map expectations report the rows (``partial_unexpected_index_list`` when the frame has key
    columns, else the values alone); table-level expectations report what they observed.
    """
    hidden = phi_columns(spec)
    rows = details.get("partial_unexpected_index_list")
    if rows:
        return [
            {str(k): MASK if k in hidden else _jsonable(v) for k, v in row.items()}
            for row in rows
        ]
    values = details.get("partial_unexpected_list")
    if values:
        column = ",".join(rule.columns)
        masked = tests_phi(rule, spec)
        return [{column: MASK if masked else _jsonable(v)} for v in values]
    if "observed_value" in details and not rule.row_level:
        details_part = details.get("details") or {}
        mismatched = details_part.get("mismatched")
        return [
            {
                "observed_value": _jsonable(details["observed_value"]),
                **({"mismatched": _jsonable(mismatched)} if mismatched else {}),
            }
        ]
    return []


def failed_without_result(spec: SuiteSpec, rule: Rule, error: str) -> ExpectationOutcome:
    """The outcome of a rule that could not run (e.g. its table lacks a contract column)."""
    return ExpectationOutcome(
        suite=spec.name,
        data_asset=spec.data_asset,
        rule=rule.name,
        expectation=re.sub(r"(?<!^)(?=[A-Z])", "_", rule.expectation).lower(),
        column_name=",".join(rule.columns) or None,
        kwargs=_kwargs_json(rule),
        severity=rule.severity,
        owner_team=rule.owner_team,
        success=False,
        element_count=None,
        unexpected_count=None,
        unexpected_sample="[]",
        error=error,
        source=spec.source,
        layer=spec.layer,
        scope=rule.scope,
    )


def _kwargs_json(rule: Rule) -> str:
    return json.dumps(rule.kwargs, default=_jsonable, sort_keys=True)


def _jsonable(value: Any) -> Any:
    """JSON-safe form of a sample value (numpy scalars, timestamps, pairs, NaN)."""
    if isinstance(value, (list, tuple, set)):
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

"""Our own GX column-map expectations: NPI check digit and ICD-10-CM code existence.

They are real GX expectations (a metric provider plus an expectation class), so they carry meta,
show in Data Docs with their failing values, and report failing rows with their keys like the
built-in ones. GX is imported inside ``register`` because importing it is slow; classes are
defined once per process (GX registers them by name when the class is created).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from expectations.codes import icd10cm_billable, icd10cm_exists, npi_is_valid

# expectation class name -> (metric name, value predicate, docstring)
CHECKS: dict[str, tuple[str, Callable[[object], bool], str]] = {
    "ExpectColumnValuesToBeValidNpi": (
        "column_values.billops_valid_npi",
        npi_is_valid,
        "Expect values to be NPIs: 10 digits, the last being the Luhn check digit over 80840 "
        "followed by the first nine.",
    ),
    "ExpectColumnValuesToBeKnownIcd10Cm": (
        "column_values.billops_known_icd10cm",
        icd10cm_exists,
        "Expect values to be ICD-10-CM codes that exist (with or without the dot).",
    ),
    "ExpectColumnValuesToBeBillableIcd10Cm": (
        "column_values.billops_billable_icd10cm",
        icd10cm_billable,
        "Expect values to be billable ICD-10-CM codes (leaves of the code tree).",
    ),
}

_registered: dict[str, Any] = {}


def _by_unique(column: pd.Series, predicate: Callable[[object], bool]) -> pd.Series:
    """Evaluate the predicate once per distinct value: codes repeat a lot across rows."""
    verdicts = {value: predicate(value) for value in column.unique()}
    return column.map(verdicts).astype(bool)


def register() -> dict[str, Any]:
    """Define (once) and return our expectation classes by name."""
    if _registered:
        return _registered
    from great_expectations.execution_engine import PandasExecutionEngine
    from great_expectations.expectations.expectation import ColumnMapExpectation
    from great_expectations.expectations.metrics import (
        ColumnMapMetricProvider,
        column_condition_partial,
    )

    for class_name, (metric, predicate, doc) in CHECKS.items():

        def _pandas(
            cls: Any, column: pd.Series, _predicate: Callable = predicate, **kwargs: Any
        ) -> pd.Series:
            return _by_unique(column, _predicate)

        provider_name = class_name.replace("Expect", "Billops") + "Metric"
        type(
            provider_name,
            (ColumnMapMetricProvider,),
            {
                "condition_metric_name": metric,
                "_pandas": column_condition_partial(engine=PandasExecutionEngine)(_pandas),
            },
        )
        _registered[class_name] = type(
            class_name,
            (ColumnMapExpectation,),
            {
                "__doc__": doc,
                "map_metric": metric,
                "success_keys": ("mostly",),
                "__module__": __name__,
            },
        )
    return _registered

"""Suite on the raw EHR charge lines, ``raw.fhir_charge_item`` (FHIR ChargeItem)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from expectations.spec import Rule, SuiteSpec

HCPCS_LEVEL_II = r"^[A-V][0-9]{4}$"


def rules(as_of: datetime | None) -> list[Rule]:
    found = [
        Rule("charge_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "id"},
             "critical", "BILLING"),
        # Raw keeps every batch's version of a charge, so an id is unique within its batch only.
        Rule("charge_id_unique_in_batch", "ExpectCompoundColumnsToBeUnique",
             {"column_list": ["id", "_batch_id"]}, "critical", "BILLING"),
        Rule("account_id_not_null", "ExpectColumnValuesToNotBeNull", {"column": "account_id"},
             "critical", "PATIENT_ACCESS"),
        Rule("hcpcs_not_null", "ExpectColumnValuesToNotBeNull", {"column": "hcpcs"},
             "critical", "CODING"),
        Rule("hcpcs_level_ii_format", "ExpectColumnValuesToMatchRegex",
             {"column": "hcpcs", "regex": HCPCS_LEVEL_II}, "critical", "CODING"),
        Rule("quantity_positive", "ExpectColumnValuesToBeBetween",
             {"column": "quantity", "min_value": 0, "strict_min": True}, "critical", "CODING"),
        Rule("price_override_non_negative", "ExpectColumnValuesToBeBetween",
             {"column": "price_override", "min_value": 0}, "critical", "BILLING"),
        Rule("entered_not_before_service", "ExpectColumnPairValuesAToBeGreaterThanB",
             {"column_A": "entered_date", "column_B": "occurrence_date", "or_equal": True,
              "ignore_row_if": "either_value_is_missing"}, "warning", "CODING"),
    ]
    if as_of is not None:
        # A charge entered after the extract that carried it is a clock or feed defect.
        found.append(Rule("entered_not_after_as_of", "ExpectColumnValuesToBeBetween",
                          {"column": "entered_date", "max_value": as_of}, "warning", "BILLING"))
    return found


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Both dates as timestamps: a charge entered any time on the service day is not early."""
    frame = frame.copy()
    for col in ("entered_date", "occurrence_date"):
        frame[col] = pd.to_datetime(frame[col], format="ISO8601").astype("datetime64[us]")
    return frame


SUITE = SuiteSpec(
    name="raw_fhir_charge_item",
    data_asset="raw.fhir_charge_item",
    columns=("id", "_batch_id", "account_id", "hcpcs", "quantity", "price_override",
             "occurrence_date", "entered_date"),
    rules=rules,
    prepare=prepare,
)

"""FHIR mappers, the explicit-schema CSV reader, value casting and pyx12 validation."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from billops.raw_schema import TABLES
from billops.sources import FileError, RecordError, Reject, Row, SourceReader
from billops.sources.csvfiles import read_csv
from billops.sources.fhir import map_resource, read_ndjson, reference_id
from billops.sources.values import cast
from billops.sources.x12.validate import INVALID, MAX_ERRORS, UNSUPPORTED, VALID, validate_x12

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures"


def fixture(folder: str, name: str) -> Path:
    path = SHARED / folder / name
    if not path.is_file():
        pytest.skip(f"third-party fixture not found: {path}")
    return path


def drain(reader: SourceReader) -> tuple[list[Row | Reject], int]:
    items: list[Row | Reject] = []
    while True:
        try:
            items.append(next(reader))
        except StopIteration as stop:
            return items, stop.value


# ---------------------------------------------------------------------------------- values


@pytest.mark.parametrize(("value", "type_name", "expected"), [
    ("12.5", "DECIMAL(18,2)", Decimal("12.50")),
    ("-0.01", "DECIMAL(18,2)", Decimal("-0.01")),
    (Decimal("0.65"), "DECIMAL(9,4)", Decimal("0.6500")),
    (3, "DECIMAL(18,2)", Decimal("3.00")),
    (" 42 ", "BIGINT", 42),
    ("2024-02-29", "DATE", date(2024, 2, 29)),
    ("2024-01-05T10:00:00+02:00", "TIMESTAMP", datetime(2024, 1, 5, 8, 0)),
    ("2024-01-05 10:00:00", "TIMESTAMP", datetime(2024, 1, 5, 10, 0)),
    ("2024-01-05T10:00:00Z", "TIMESTAMP", datetime(2024, 1, 5, 10, 0)),
    ("2024-01-05", "TIMESTAMP", datetime(2024, 1, 5)),
    (True, "BOOLEAN", True),
    ("", "DECIMAL(18,2)", None),
    ("", "VARCHAR", None),
    (7, "VARCHAR", "7"),
])
def test_cast_to_contract_types(value: object, type_name: str, expected: object) -> None:
    assert cast(value, type_name, "col") == expected


@pytest.mark.parametrize(("value", "type_name", "message"), [
    ("12.345", "DECIMAL(18,2)", "more than 2 decimal places"),
    ("1,234.00", "DECIMAL(18,2)", "not a decimal"),
    ("1e5", "DECIMAL(18,2)", "not a decimal"),
    ("12345678901234567.00", "DECIMAL(18,2)", "does not fit"),
    ("4.5", "BIGINT", "not an integer"),
    ("2024-02-30", "DATE", "not a date"),
    ("01/05/2024", "DATE", "not a date"),
    ("2024-01-05T10:00", "DATE", "not a date"),
    ("yesterday", "TIMESTAMP", "not an ISO 8601"),
    ("maybe", "BOOLEAN", "not a boolean"),
    ({"a": 1}, "VARCHAR", "JSON dict"),
])
def test_cast_errors_are_clear(value: object, type_name: str, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        cast(value, type_name, "col")


def test_cast_errors_never_show_phi_values() -> None:
    with pytest.raises(RecordError) as caught:
        cast("1980-13-01", "DATE", "birth_date")
    assert "1980-13-01" not in str(caught.value) and "birth_date" in str(caught.value)


# ---------------------------------------------------------------------------------- FHIR


@pytest.mark.parametrize(("ref", "expected"), [
    ("Encounter/abc", "abc"),
    ({"reference": "Patient/p-1"}, "p-1"),
    ("http://benefitsinc.com/FHIR/Organization/CBI35", "CBI35"),
    ("Patient/123/_history/2", "123"),
    ("urn:uuid:5a3f", "5a3f"),
    ({"display": "no reference"}, None),
    (None, None),
])
def test_reference_id(ref: object, expected: str | None) -> None:
    assert reference_id(ref) == expected


def test_spec_chargeitem_example_maps() -> None:
    text = json.dumps(json.loads(fixture("fhir", "spec__chargeitem-example.json").read_text()))
    row = map_resource(json.loads(text), "ChargeItem", text)
    assert set(row) == set(TABLES["fhir_charge_item"].columns)
    assert row["id"] == "example" and row["status"] == "billable"
    assert row["hcpcs"] == "01510"
    assert row["quantity"] == Decimal("1.00") and row["price_override"] == Decimal("40.00")
    assert row["occurrence_date"] == date(2017, 1, 25)  # occurrencePeriod.start
    assert row["occurrence_at"] == datetime(2017, 1, 25, 7, 0)  # 08:00+01:00, in UTC
    assert row["entered_date"] == datetime(2017, 1, 25, 22, 55, 4)  # +01:00 to UTC
    assert (row["account_id"], row["patient_id"], row["performer_id"]) == (
        "example", "example", "example")
    assert row["resource_json"] == text


def test_spec_coverage_example_maps() -> None:
    text = json.dumps(json.loads(fixture("fhir", "spec__coverage-example.json").read_text()))
    row = map_resource(json.loads(text), "Coverage", text)
    assert set(row) == set(TABLES["fhir_coverage"].columns)
    assert (row["id"], row["status"], row["patient_id"], row["payer_id"]) == (
        "9876B1", "active", "4", "2")
    assert row["relationship"] == "self"
    assert (row["period_start"], row["period_end"]) == (date(2011, 5, 23), date(2012, 5, 23))
    assert row["subscriber_id"] is None and row["coverage_order"] is None


def test_resources_map_to_their_columns() -> None:
    organization = {
        "resourceType": "Organization", "id": "clinic-1", "active": True, "name": "North Clinic",
        "meta": {"versionId": "3", "lastUpdated": "2024-01-02T03:04:05Z"},
        "identifier": [{"system": "urn:other", "value": "x"},
                       {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
        "type": [{"coding": [{"code": "prov"}]}], "partOf": {"reference": "Organization/hosp-1"}}
    row = map_resource(organization, "Organization", "{}")
    assert (row["npi"], row["type_code"], row["part_of_id"], row["active"]) == (
        "1234567893", "prov", "hosp-1", True)
    assert (row["version_id"], row["last_updated"]) == ("3", datetime(2024, 1, 2, 3, 4, 5))

    coverage = {"resourceType": "Coverage", "id": "cov-1", "status": "active",
                "meta": {"versionId": "2", "lastUpdated": "2024-01-03T00:00:00Z"},
                "beneficiary": {"reference": "Patient/p1"}, "payor": [{"reference": "Organization/pay-1"}],
                "subscriberId": "M123", "order": 1, "period": {"start": "2024-01-01"}}
    row = map_resource(coverage, "Coverage", "{}")
    assert (row["payer_id"], row["subscriber_id"], row["coverage_order"], row["version_id"]) == (
        "pay-1", "M123", 1, "2")
    assert row["period_end"] is None

    encounter = {"resourceType": "Encounter", "id": "ENC1", "status": "finished",
                 "class": {"code": "AMB"}, "type": [{"coding": [{"code": "OP"}]}],
                 "subject": {"reference": "Patient/p1"},
                 "serviceProvider": {"reference": "Organization/clinic-1"},
                 "period": {"start": "2024-01-15T09:00:00-05:00", "end": "2024-01-15T10:00:00-05:00"}}
    row = map_resource(encounter, "Encounter", "{}")
    assert (row["class_code"], row["type_code"], row["service_provider_id"]) == (
        "AMB", "OP", "clinic-1")
    assert row["period_start"] == datetime(2024, 1, 15, 14, 0)

    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1974",
               "name": [{"use": "nickname", "family": "Z"}, {"use": "official", "family": "Doe",
                                                           "given": ["Jane", "Q"]}],
               "address": [{"postalCode": "12345"}]}
    row = map_resource(patient, "Patient", "{}")
    assert (row["family_name"], row["given_name"], row["postal_code"]) == ("Doe", "Jane", "12345")
    assert row["birth_date"] is None  # a partial date stays only in resource_json

    charge = {"resourceType": "ChargeItem", "id": "CHG1", "status": "billable",
              "code": {"coding": [{"code": "J1100"}]}, "quantity": {"value": 2},
              "priceOverride": {"value": Decimal("100.5")}, "occurrenceDateTime": "2024-01-15",
              "enteredDate": "2024-01-16T08:00:00Z", "context": {"reference": "Encounter/ENC1"}}
    row = map_resource(charge, "ChargeItem", "{}")
    assert (row["hcpcs"], row["quantity"], row["price_override"], row["account_id"]) == (
        "J1100", Decimal("2.00"), Decimal("100.50"), "ENC1")
    assert (row["occurrence_date"], row["occurrence_at"]) == (
        date(2024, 1, 15), datetime(2024, 1, 15))  # a date only: midnight
    charge["occurrenceDateTime"] = "2024-01-15T22:12:00-07:00"
    row = map_resource(charge, "ChargeItem", "{}")
    assert (row["occurrence_date"], row["occurrence_at"]) == (
        date(2024, 1, 15), datetime(2024, 1, 16, 5, 12))  # date as written, time in UTC


@pytest.mark.parametrize(("resource", "message"), [
    ({"resourceType": "Patient", "id": "p1"}, "resourceType is 'Patient', expected 'Coverage'"),
    ({"resourceType": "Coverage"}, "no id"),
    ([1, 2], "JSON object"),
    ({"resourceType": "Coverage", "id": "c", "order": "first"}, "coverage_order"),
])
def test_bad_resources_raise_record_errors(resource: object, message: str) -> None:
    with pytest.raises(RecordError, match=message):
        map_resource(resource, "Coverage", "{}")


def test_ndjson_reader_rejects_bad_lines_and_keeps_good_ones(tmp_path: Path) -> None:
    path = tmp_path / "Patient.ndjson"
    lines = ['{"resourceType":"Patient","id":"p1"}', "{not json", "",
             '{"resourceType":"Coverage","id":"c1"}', '{"resourceType":"Patient","id":"p2"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, records = drain(read_ndjson(path, "Patient"))
    assert records == 4  # the blank line is not a record
    assert [i.values["id"] for i in items if isinstance(i, Row)] == ["p1", "p2"]
    assert [(r.record, r.original_text) for r in items if isinstance(r, Reject)] == [
        (2, "{not json"), (4, lines[3])]


# ---------------------------------------------------------------------------------- CSV


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(text)
    return path


def test_csv_header_in_any_order_with_bom_and_typed_values(tmp_path: Path) -> None:
    path = write(tmp_path / "payers.csv", "\ufeffname,payer_id,timely_filing_days,payer_type\n"
                 '"Acme, Inc.",P1,90,COMMERCIAL\r\nBeta,P2,,MEDICARE\n')
    items, records = drain(read_csv(path))
    assert records == 2
    assert [i.values for i in items] == [
        {"payer_id": "P1", "name": "Acme, Inc.", "payer_type": "COMMERCIAL", "timely_filing_days": 90},
        {"payer_id": "P2", "name": "Beta", "payer_type": "MEDICARE", "timely_filing_days": None}]


def test_csv_bad_rows_are_rejected_with_record_and_reason(tmp_path: Path) -> None:
    path = write(tmp_path / "patient_payments.csv",
                 "payment_id,patient_id,account_id,amount,received_at,method\n"
                 "PAY1,p1,ENC1,25.00,2024-01-20T10:00:00Z,CARD\n"
                 "PAY2,p1,ENC1,25.00,2024-01-20T10:00:00Z\n"
                 'PAY3,p1,"ENC1\nsecond line",abc,2024-01-20T10:00:00Z,CASH\n'
                 "PAY4,p2,ENC2,-5.00,2024-01-21,CHECK\n")
    items, records = drain(read_csv(path))
    assert records == 4
    assert [i.values["payment_id"] for i in items if isinstance(i, Row)] == ["PAY1", "PAY4"]
    rejects = [i for i in items if isinstance(i, Reject)]
    assert (rejects[0].record, rejects[0].reason) == (2, "expected 6 fields, found 5")
    assert rejects[0].original_text == "PAY2,p1,ENC1,25.00,2024-01-20T10:00:00Z"
    assert rejects[1].record == 3 and "amount: 'abc' is not a decimal number" in rejects[1].reason
    assert "second line" in rejects[1].original_text


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty file"),
    ("payer_id,name,payer_type\nP1,A,B\n", "missing column(s) timely_filing_days"),
    ("payer_id,name,payer_type,timely_filing_days,extra\n", "unexpected column(s) extra"),
    ("payer_id,name,name,payer_type,timely_filing_days\n", "repeated column(s) name"),
])
def test_csv_header_problems_are_file_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "payers.csv", text)
    with pytest.raises(FileError) as caught:
        drain(read_csv(path))
    assert message in caught.value.reason


def test_csv_header_only_is_zero_rows(tmp_path: Path) -> None:
    path = write(tmp_path / "payers.csv", "payer_id,name,payer_type,timely_filing_days\n")
    assert drain(read_csv(path)) == ([], 0)


# ---------------------------------------------------------------------------------- pyx12


def test_pyx12_validation_statuses_on_fixtures() -> None:
    assert validate_x12(fixture("x12", "pyx12__835_mult_loops.835")) .status == VALID
    unsupported = validate_x12(fixture("x12", "lfh__837P_example1.837"))
    assert unsupported.status == UNSUPPORTED and "005010X222A2" in unsupported.errors[0]["message"]
    invalid = validate_x12(fixture("x12", "imsweb__837P_complex.837"))
    assert invalid.status == INVALID
    assert invalid.error_count > MAX_ERRORS and len(json.loads(invalid.errors_json)) == MAX_ERRORS
    bpr = validate_x12(fixture("x12", "lfh__835_managed-care.835"))
    assert bpr.status == INVALID
    assert any(e.get("element") == "BPR16" for e in bpr.errors)
    assert "20002316" not in bpr.errors_json  # offending values are left out (may be PHI)

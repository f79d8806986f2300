"""billops scorecard: precision and recall per exception type against a truth file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from billops.config import Settings
from billops.errors import BillopsError
from billops.scorecard import EXCEPTION_TYPES, read_truth, scorecard
from billops.synth import generate

HEADER = "defect_type,key,account_id,claim_id,charge_id,trace_number,journal_id,statement_id,patient_id,amount,batch_id\n"


def _truth(folder: Path, rows: list[str], header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "defects.csv").write_text(header + "".join(r + "\n" for r in rows))
    return folder


def _exceptions(settings: Settings, rows: list[tuple[str, str, str]]) -> None:
    """rows: (exception_type, key column, key)."""
    path = Path(settings.warehouse)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.billing_exceptions (exception_type varchar, account_id varchar, "
            "charge_id varchar, trace_number varchar, journal_id varchar, statement_id varchar)"
        )
        for etype, column, key in rows:
            con.execute(
                f"insert into marts.billing_exceptions (exception_type, {column}) values (?, ?)",
                [etype, key],
            )


def test_precision_and_recall_per_type(billops_home: Settings, tmp_path: Path) -> None:
    truth = _truth(
        tmp_path / "truth",
        [
            "DENIAL,A1,A1,A1,,,,,P1,10.00,b",
            "DENIAL,A2,A2,A2,,,,,P2,10.00,b",
            "UNBILLED_CHARGE,C1,A3,,C1,,,,P3,5.00,b",
            "GL_DUPLICATE_POSTING,J9,,,,T9,J9,,,50.00,b",
        ],
    )
    _exceptions(
        billops_home,
        [
            ("DENIAL", "account_id", "A1"),
            ("DENIAL", "account_id", "A7"),  # a false positive
            ("UNBILLED_CHARGE", "charge_id", "C1"),
            # flagged on the wrong key column: the trace, where the journal is the key
            ("GL_DUPLICATE_POSTING", "trace_number", "J9"),
            ("CREDIT_BALANCE", "account_id", "A5"),  # nothing of the type injected
        ],
    )
    card = scorecard(truth, settings=billops_home)
    types = card["types"]
    assert types["DENIAL"] == {
        "injected": 2,
        "flagged": 2,
        "matched": 1,
        "scored": True,
        "precision": 0.5,
        "recall": 0.5,
        "false_positives": 1,
    }
    assert types["UNBILLED_CHARGE"]["precision"] == types["UNBILLED_CHARGE"]["recall"] == 1.0
    # injected, nothing flagged: no precision to speak of, recall 0
    assert types["GL_DUPLICATE_POSTING"] == {
        "injected": 1,
        "flagged": 0,
        "matched": 0,
        "scored": True,
        "precision": None,
        "recall": 0.0,
        "false_positives": 0,
    }
    # nothing injected but something flagged: not scored, every flag a false positive
    assert types["CREDIT_BALANCE"] == {
        "injected": 0,
        "flagged": 1,
        "matched": 0,
        "scored": False,
        "precision": 0.0,
        "recall": None,
        "false_positives": 1,
    }
    # every type of the vocabulary is reported; one neither injected nor flagged is null
    assert set(types) == set(EXCEPTION_TYPES)
    assert types["WRITE_OFF_UNAPPROVED"] == {
        "injected": 0,
        "flagged": 0,
        "matched": 0,
        "scored": False,
        "precision": None,
        "recall": None,
        "false_positives": 0,
    }
    overall = card["overall"]
    assert {k: overall[k] for k in ("injected", "flagged", "matched", "precision", "recall")} == {
        "injected": 4,
        "flagged": 4,
        "matched": 2,
        "precision": 0.5,
        "recall": 0.5,
    }
    # the worst figures ignore the types with nothing injected (CREDIT_BALANCE's 0 precision
    # is reported as a false positive instead)
    assert overall["scored_types"] == 3
    assert (overall["worst_precision"], overall["worst_precision_type"]) == (0.5, "DENIAL")
    assert (overall["worst_recall"], overall["worst_recall_type"]) == (0.0, "GL_DUPLICATE_POSTING")
    assert "WRITE_OFF_UNAPPROVED" in overall["unscored"]
    assert "CREDIT_BALANCE" in overall["unscored"]
    assert overall["unscored_flagged"] == ["CREDIT_BALANCE"]


def test_nothing_injected_is_not_a_perfect_score(billops_home: Settings, tmp_path: Path) -> None:
    truth = _truth(tmp_path / "truth", ["DENIAL,A1,A1,A1,,,,,P1,10.00,b"])
    _exceptions(billops_home, [("DENIAL", "account_id", "A1")])
    card = scorecard(truth, settings=billops_home)
    for etype, row in card["types"].items():
        if etype != "DENIAL":
            assert row["scored"] is False and row["precision"] is None and row["recall"] is None
    assert card["overall"]["worst_precision"] == card["overall"]["worst_recall"] == 1.0
    assert card["overall"]["scored_types"] == 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_small_scale_injects_every_exception_type(tmp_path: Path, seed: int) -> None:
    """The scorecard can only vouch for a type the generator injects: at small scale every
    exception type of the vocabulary has truth rows (generation alone takes seconds)."""
    summary = generate(tmp_path / "g", scale="small", seed=seed)
    truth = read_truth(tmp_path / "g" / "truth")
    missing = [t for t in EXCEPTION_TYPES if not truth.get(t)]
    assert not missing, f"seed {seed}: not injected at small scale: {missing}"
    assert all(summary["defects"][t] > 0 for t in EXCEPTION_TYPES)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "truth file not found"),
        ("defect_type,amount\nDENIAL,1\n", "header lacks column(s) key"),
        (HEADER + "DENIAL,,A1,,,,,,,1,b\n", "record 2: empty defect_type or key"),
    ],
)
def test_bad_truth_is_one_line_error(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "defects.csv").write_text(content)
    with pytest.raises(BillopsError) as caught:
        read_truth(tmp_path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_truth_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "defects.csv").write_bytes(HEADER.encode() + b"DENIAL,A\xff1,,,,,,,,1,b\n")
    with pytest.raises(BillopsError, match="not UTF-8"):
        read_truth(tmp_path)


def test_warehouse_without_the_mart(billops_home: Settings, tmp_path: Path) -> None:
    truth = _truth(tmp_path / "truth", ["DENIAL,A1,A1,A1,,,,,P1,10.00,b"])
    path = Path(billops_home.warehouse)  # type: ignore[arg-type]
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    with pytest.raises(BillopsError, match="billing_exceptions not built"):
        scorecard(truth, settings=billops_home)

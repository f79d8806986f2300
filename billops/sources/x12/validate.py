"""Implementation-guide validation of X12 files with pyx12 (x12n_document).

The result is VALID, INVALID (with the number of errors and at most :data:`MAX_ERRORS` of them)
or UNSUPPORTED (an implementation guide pyx12 has no map for, such as 005010X222A2). Error
messages are kept without the offending values, which may be PHI (names, member ids, birth
dates); pyx12's own logging, which prints them, is silenced while it runs. This is pyx12's own
verdict: the errors pyx12 reports wrongly are flagged by the validation step
(``billops.ingest.x12_validation.KNOWN_FALSE_POSITIVES``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_ERRORS = 50

VALID, INVALID, UNSUPPORTED = "VALID", "INVALID", "UNSUPPORTED"


@dataclass(frozen=True)
class X12Validation:
    status: str
    error_count: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors_json(self) -> str:
        return json.dumps(self.errors[:MAX_ERRORS])


@contextlib.contextmanager
def _quiet_pyx12() -> Iterator[None]:
    logger = logging.getLogger("pyx12")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(text: str) -> str:
    """``text`` on one line, any control character left in it escaped (``\\x00``): pyx12 may
    quote what it read, and hostile input holds anything."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", " ".join(text.split()))


def _scrub(message: str, value: object) -> str:
    text = str(message)
    if isinstance(value, str) and value:
        text = text.replace(value, "…")
    return _one_line(text)


def _collect(
    node: dict[str, Any], level: str, out: list[dict[str, Any]], context: dict[str, Any]
) -> None:
    for err in node.get("errors") or []:
        out.append(
            {
                **context,
                "level": level,
                "code": str(err.get("err_cde", "")),
                "message": _scrub(err.get("err_str", ""), err.get("err_val")),
            }
        )


def flatten_errors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """pyx12's nested JSON error document as a flat list, outermost first."""
    out: list[dict[str, Any]] = []
    for isa in doc.get("interchanges", []):
        _collect(isa, "interchange", out, {"line": isa.get("cur_line")})
        for gs in isa.get("groups", []):
            _collect(gs, "group", out, {"line": gs.get("cur_line")})
            for st in gs.get("transactions", []):
                ctx = {"transaction_set": st.get("trn_set_control_num")}
                _collect(st, "transaction_set", out, {**ctx, "line": st.get("cur_line")})
                for seg in st.get("segments", []):
                    seg_ctx = {**ctx, "line": seg.get("cur_line"), "segment": seg.get("seg_id")}
                    _collect(seg, "segment", out, seg_ctx)
                    for ele in seg.get("elements", []):
                        pos = f"{seg.get('seg_id')}{int(ele.get('ele_pos') or 0):02d}"
                        if ele.get("subele_pos"):
                            pos += f"-{int(ele['subele_pos']):02d}"
                        _collect(ele, "element", out, {**seg_ctx, "element": pos})
    return out


def validate_x12(path: Path) -> X12Validation:
    """Validate one X12 file against its implementation guide."""
    import pyx12.errors
    import pyx12.params
    import pyx12.x12n_document

    report = io.StringIO()
    with _quiet_pyx12(), open(path, encoding="utf-8-sig") as source:
        try:
            ok = pyx12.x12n_document.x12n_document(
                pyx12.params.params(), source, None, None, None, report
            )
        except pyx12.errors.EngineError as exc:
            message = _one_line(str(exc))
            if "Map not found" in message:
                return X12Validation(UNSUPPORTED, 0, [{"level": "file", "message": message}])
            return X12Validation(INVALID, 1, [{"level": "file", "message": message}])
        except Exception as exc:  # pyx12 fails on input it cannot walk; keep the class only
            return X12Validation(
                INVALID, 1, [{"level": "file", "message": f"pyx12 failed: {type(exc).__name__}"}]
            )
    text = report.getvalue()
    errors = flatten_errors(json.loads(text)) if text else []
    if ok and not errors:
        return X12Validation(VALID, 0, [])
    if not errors:
        errors = [{"level": "file", "message": "pyx12 reported the file invalid"}]
    return X12Validation(INVALID, len(errors), errors[:MAX_ERRORS])

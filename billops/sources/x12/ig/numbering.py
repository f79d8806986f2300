"""The numbering checks pyx12's reader makes outside the guide's map: HL01 counts the HL segments
of a transaction set and HL02 names an HL still open (codes HL1, HL2), and in an 837 map's
claims LX01 counts the service lines (code LX). Messages hold no values."""

from __future__ import annotations

from billops.sources.x12.tokenizer import Segment

NUMBERED = frozenset({"ST", "HL", "CLM", "LX"})

NumberingError = tuple[str, str]  # (code, message)


def _int(value: str) -> int | None:
    try:
        return int(value)
    except ValueError:
        return None


class Numbering:
    """HL and LX numbering within one transaction set."""

    def __init__(self) -> None:
        self.hl_count = 0
        self.hl_stack: list[int | None] = []
        self.lx_count = 0
        self.check_lx = False  # the guide's map is pyx12's "837" (837P), as pyx12 decides

    def read(self, seg: Segment) -> list[NumberingError]:
        sid = seg.id
        if sid == "ST":
            self.hl_count, self.hl_stack = 0, []
        elif sid == "HL":
            return self._hl(seg)
        elif sid == "CLM" and self.check_lx:
            self.lx_count = 0
        elif sid == "LX" and self.check_lx:
            self.lx_count += 1
            if seg[1] != str(self.lx_count):
                return [("LX", "LX01 does not match the count of service lines in the claim")]
        return []

    def _hl(self, seg: Segment) -> list[NumberingError]:
        out: list[NumberingError] = []
        self.hl_count += 1
        if _int(seg[1]) != self.hl_count:
            out.append(("HL1", "HL01 does not match the count of HL segments"))
        if seg[2] != "":
            parent = _int(seg[2])
            if parent not in self.hl_stack:
                out.append(("HL2", "HL02 does not name a valid parent HL"))
            while self.hl_stack and parent != self.hl_stack[-1]:
                del self.hl_stack[-1]
        self.hl_stack.append(self.hl_count)
        return out

"""Reading a landing file's text line by line, with a cap on the size of each line.

A line longer than the cap is never held whole: it is read on in bounded pieces until its end
and handed on as :class:`LongLine` (its first characters only), so the reader rejects it as one
record and goes on with the next line. Line ends are ``\\n``, ``\\r\\n`` or ``\\r``, kept on the
line as read; a UTF-8 byte order mark at the start is dropped.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

# How much of a rejected long line raw._rejects keeps.
LONG_LINE_KEPT = 1024
_SKIP_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class LongLine:
    """A line longer than the cap: only its start was kept."""

    start: str


@contextlib.contextmanager
def open_text(source: Path | BinaryIO) -> Iterator[TextIO]:
    """``source`` (a path, or a binary file its owner closes) as UTF-8 text, line ends kept."""
    if isinstance(source, Path):
        with open(source, encoding="utf-8-sig", newline="") as handle:
            yield handle
        return
    buffered = io.BufferedReader(source, 1 << 16)  # type: ignore[arg-type]
    text = io.TextIOWrapper(buffered, encoding="utf-8-sig", newline="")
    try:
        yield text
    finally:
        text.detach()  # the owner of ``source`` closes it


def too_long(line: str, cap: int) -> bool:
    """Whether ``line`` (its line end not counted) is longer than ``cap`` bytes of UTF-8."""
    if len(line) * 4 <= cap:  # cheap: no character is longer than 4 bytes
        return False
    return len(line.rstrip("\r\n").encode("utf-8", "surrogatepass")) > cap


def bounded_lines(handle: TextIO, cap: int) -> Iterator[str | LongLine]:
    """The lines of ``handle``; a line longer than ``cap`` bytes comes as a LongLine."""
    limit = cap + 2  # room for \r\n: a line this long without its end is too long
    while line := handle.readline(limit):
        if not too_long(line, cap):
            yield line
            continue
        start = line[:LONG_LINE_KEPT]
        while line and not line.endswith(("\n", "\r")):
            line = handle.readline(_SKIP_CHUNK)
        yield LongLine(start)

"""X12 implementation-guide validation: billops' own validator against pyx12, segments a second.

The X12 files of a generated small system (``billops generate --scale small --seed 42 --start
2026-09``, the files under landing/rcm/*/835 and 837; BENCH_X12_VALIDATE_DIR reuses a folder
already generated) are validated on one core, each file whole (tokenizing included), by
``billops.sources.x12.ig.validator.validate_file``; pyx12 (``validate_x12``) runs on the first
BENCH_X12_VALIDATE_PYX12_FILES files (default 3) only, it being about a hundred times slower.
The verdicts of both on those files are recorded side by side, and the share of segments that
repeat an earlier segment of their file exactly (billops' validator remembers a whole segment's
verdict per file, so that share is checked once: synthetic files repeat more than real ones).
CPU seconds, best of BENCH_X12_VALIDATE_REPEAT runs (default 3). Target: billops' validator at least 200,000 segments a second on
the valid files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from billops.sources.x12.ig.validator import validate_file
from billops.sources.x12.tokenizer import iter_segments, read_chunks
from billops.sources.x12.validate import validate_x12

TARGET = 200_000
CAP = 1_000_000
PYX12_FILES = int(os.environ.get("BENCH_X12_VALIDATE_PYX12_FILES", "3"))
REPEAT = int(os.environ.get("BENCH_X12_VALIDATE_REPEAT", "3"))


def _system() -> Path:
    given = os.environ.get("BENCH_X12_VALIDATE_DIR")
    if given:
        return Path(given)
    out = Path(tempfile.mkdtemp(prefix="bench_x12_validate_"))
    command = [sys.executable, "-m", "billops", "generate", "--scale", "small", "--seed", "42"]
    subprocess.run(
        [*command, "--start", "2026-09", "--out", str(out)], check=True, capture_output=True
    )
    return out


def _segments(path: Path) -> tuple[int, int]:
    """The file's segments, and how many repeat an earlier one exactly."""
    seen: set[tuple[str, ...]] = set()
    count = repeats = 0
    for seg in iter_segments(read_chunks(path), CAP):
        count += 1
        key = tuple(seg.elements)
        repeats += key in seen
        seen.add(key)
    return count, repeats


def _timed(files: list[Path], validate: Any) -> tuple[float, list[str]]:
    start = time.process_time()
    statuses = [validate(path).status for path in files]
    return time.process_time() - start, statuses


def run() -> dict[str, Any]:
    files = sorted((_system() / "landing" / "rcm").glob("*/83[57]/*"))
    measured = [_segments(path) for path in files]
    counts = [count for count, _repeats in measured]
    ours_s, ours = _timed(files, lambda p: validate_file(p, CAP))
    for _ in range(REPEAT - 1):
        ours_s = min(ours_s, _timed(files, lambda p: validate_file(p, CAP))[0])
    valid = sum(c for c, s in zip(counts, ours, strict=True) if s == "VALID")
    sample = files[:PYX12_FILES]
    sample_segments = sum(counts[: len(sample)])
    pyx12_s, theirs = _timed(sample, validate_x12)
    ours_sample_s, _ = _timed(sample, lambda p: validate_file(p, CAP))
    rate = round(sum(counts) / ours_s)
    return {
        "files": len(files),
        "segments": sum(counts),
        "valid_segments": valid,
        "repeated_segment_share": round(sum(r for _c, r in measured) / sum(counts), 3),
        "billops_cpu_s": round(ours_s, 3),
        "billops_segments_per_s": rate,
        "pyx12_files": len(sample),
        "pyx12_segments": sample_segments,
        "pyx12_cpu_s": round(pyx12_s, 3),
        "pyx12_segments_per_s": round(sample_segments / pyx12_s),
        "billops_on_pyx12_sample_segments_per_s": round(sample_segments / ours_sample_s),
        "verdicts_billops": ours[: len(sample)],
        "verdicts_pyx12": theirs,
        "targets": [
            {
                "name": "billops validator segments/s (one core)",
                "value": rate,
                "target": f">= {TARGET}",
                "met": rate >= TARGET,
            },
        ],
    }

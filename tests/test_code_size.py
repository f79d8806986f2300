"""Files that fit in a head: no non-test Python file over 600 lines and no function over 80,
except those the README.md of their folder lists, with the reason, under "Long files and functions"
(a markdown list of `path` or `path::function` followed by the reason)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("billops", "expectations", "dashboards", "process_mining", "dags", "bench")
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80
EXCEPTIONS_HEADING = "long files and functions"
# `path` or `path::function` at the start of a list item, then the reason.
_EXCEPTION_ITEM = re.compile(r"^\s*[-*]\s+`(?P<target>[^`]+)`\s*[:—–-]?\s*(?P<reason>.*)$")


def _python_files() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py"))


def listed_exceptions(readme_text: str) -> dict[str, str]:
    """`path` or `path::function` -> reason, from the "Long files and functions" section."""
    found: dict[str, str] = {}
    in_section = False
    for line in readme_text.splitlines():
        heading = re.match(r"^#+\s+(.*?)\s*$", line)
        if heading:
            in_section = heading.group(1).strip().lower() == EXCEPTIONS_HEADING
            continue
        item = _EXCEPTION_ITEM.match(line) if in_section else None
        if item:
            found[item.group("target")] = item.group("reason").strip()
    return found


def _exceptions() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in FOLDERS:
        readme = ROOT / folder / "README.md"
        if readme.exists():
            found.update(listed_exceptions(readme.read_text(encoding="utf-8")))
    return found


def _long_functions(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    long = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                long.append((node.name, length))
    return long


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", _python_files(), ids=_rel)
def test_file_and_functions_fit_in_a_head(path: Path) -> None:
    exceptions = _exceptions()
    rel = _rel(path)
    problems = []
    lines = len(path.read_text(encoding="utf-8").splitlines())
    if lines > MAX_FILE_LINES and rel not in exceptions:
        problems.append(f"{rel}: {lines} lines (over {MAX_FILE_LINES})")
    for name, length in _long_functions(path):
        if f"{rel}::{name}" not in exceptions:
            problems.append(f"{rel}::{name}: {length} lines (over {MAX_FUNCTION_LINES})")
    assert not problems, "; ".join(problems) + (
        " — split it, or list it with the reason under 'Long files and functions' in the"
        " README.md of its folder"
    )


def test_every_listed_exception_names_a_file_and_gives_a_reason() -> None:
    for target, reason in _exceptions().items():
        path = target.split("::")[0]
        assert (ROOT / path).is_file(), f"{target}: no such file"
        assert reason, f"{target}: no reason given"


def test_the_exception_list_is_parsed() -> None:
    text = (
        "# bench\n\n## Long files and functions\n\n"
        "- `bench/a.py::run` — one flat script, read top to bottom\n"
        "- `bench/b.py`: generated table\n\n## Other\n\n- `bench/c.py` not this one\n"
    )
    assert listed_exceptions(text) == {
        "bench/a.py::run": "one flat script, read top to bottom",
        "bench/b.py": "generated table",
    }

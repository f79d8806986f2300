"""Docs that live here: every document the README, docs/ and the code cite exists in the
repository, nothing cites a document outside it, and the README's layout table lists exactly the
repository's top-level folders."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CODE_FOLDERS = (
    "billops",
    "expectations",
    "dashboards",
    "process_mining",
    "dags",
    "dbt_project",
    "bench",
)
CODE_SUFFIXES = (".py", ".yml", ".yaml", ".sql", ".pnml", ".toml")
# [text](target) in Markdown.
_MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
# A cited path: docs/<something>, or a path with a folder that ends in .md.
_CITED_PATH = re.compile(r"(?<![\w./-])((?:docs/[\w./-]*[\w-])|(?:[\w.-]+/)+[\w.-]+\.md)\b")
# A document outside the repository: a parent-relative or absolute path to a document, the
# sessions' shared folder, or the ARCHITECTURE.md that lives there.
_OUTSIDE = re.compile(
    r"(?:\.\./)+[\w./-]*\.(?:md|rst|txt|pdf|html)\b"
    r"|(?<![\w.])/(?:work|home|tmp)/[\w./-]+"
    r"|\.\./shared/(?!fixtures\b)[\w./-]+"
    r"|\bARCHITECTURE\.md\b"
)


def _tracked(*patterns: str) -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "--", *patterns], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / line for line in out.splitlines() if (ROOT / line).is_file()]


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _code_files() -> list[Path]:
    return [p for p in _tracked(*CODE_FOLDERS) if p.suffix in CODE_SUFFIXES]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _exists(target: str, cited_in: Path) -> bool:
    target = target.split("#", 1)[0].rstrip("/")
    if not target:
        return True
    return (cited_in.parent / target).exists() or (ROOT / target).exists()


def cited_targets(text: str, markdown: bool) -> set[str]:
    """Relative links (Markdown only) and cited repository paths in ``text``."""
    targets = set(_CITED_PATH.findall(text))
    if markdown:
        targets |= {
            t
            for t in _MD_LINK.findall(text)
            if not re.match(r"^(?:[a-z][a-z0-9+.-]*:|#)", t)
        }
    return targets


def outside_references(text: str) -> list[str]:
    return [m.group(0) for m in _OUTSIDE.finditer(text)]


@pytest.mark.parametrize("path", _markdown_files() + _code_files(), ids=_rel)
def test_every_cited_document_exists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    missing = sorted(
        t for t in cited_targets(text, markdown=path.suffix == ".md") if not _exists(t, path)
    )
    assert not missing, f"{_rel(path)} cites what is not in the repository: {missing}"


@pytest.mark.parametrize("path", _code_files() + _markdown_files(), ids=_rel)
def test_nothing_cites_a_document_outside_the_repository(path: Path) -> None:
    found = outside_references(path.read_text(encoding="utf-8"))
    assert not found, f"{_rel(path)} cites documents outside the repository: {found}"


def test_the_patterns_tell_inside_from_outside() -> None:
    assert outside_references("see ../shared/ARCHITECTURE.md") != []
    assert outside_references("formats in /work/main/docs/x.md") != []
    assert outside_references("read from ../shared/fixtures/x12/") == []
    assert outside_references('env_var("W", "../data/warehouse/billops.duckdb")') == []
    assert cited_targets("[a](docs/cli.md#x) and `docs/rules.md` and http://x.org/a.md", True) == {
        "docs/cli.md#x",
        "docs/cli.md",
        "docs/rules.md",
    }


def _layout_folders(readme: str) -> set[str]:
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    header = re.search(r"^\|\s*folder\s*\|\s*holds\s*\|\s*why\s*\|\s*$", section, re.MULTILINE)
    assert header, "README ## Layout has no | folder | holds | why | table"
    rows = section[header.end() :].strip().split("\n\n", 1)[0].splitlines()[1:]
    return {re.match(r"^\|\s*`?([^`|]+?)/?`?\s*\|", row).group(1) for row in rows}


def test_the_readme_layout_table_lists_exactly_the_top_level_folders() -> None:
    tracked = {_rel(p).split("/", 1)[0] for p in _tracked(".") if "/" in _rel(p)}
    folders = {name for name in tracked if not name.startswith(".")}
    listed = _layout_folders((ROOT / "README.md").read_text(encoding="utf-8"))
    assert listed == folders, (
        f"in the table, not a folder: {sorted(listed - folders)}; "
        f"folders missing from the table: {sorted(folders - listed)}"
    )

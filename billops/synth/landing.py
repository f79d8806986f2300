"""Landing batches: ``<landing>/<system>/<batch_id>/…`` files, then ``_manifest.json`` last."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from billops.errors import BillopsError
from billops.synth.params import batch_id, iso

MANIFEST = "_manifest.json"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def dump_json(obj: Any) -> str:
    """Deterministic JSON: keys keep their insertion order, no spaces, UTF-8 kept as is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class BatchWriter:
    """Writes the files of one batch and, on ``close``, its manifest."""

    def __init__(self, landing: Path, system: str, extracted_at: datetime) -> None:
        self.system = system
        self.extracted_at = extracted_at
        self.batch_id = batch_id(extracted_at)
        self.root = landing / system / self.batch_id
        if self.root.exists():
            raise BillopsError(
                f"landing batch {self.root} already exists; generate into an empty --out folder"
            )
        self.root.mkdir(parents=True)
        self.files: list[dict[str, Any]] = []

    def _open(self, rel: str) -> TextIO:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8", newline="")

    def _record(self, rel: str, records: int) -> None:
        self.files.append({"path": rel, "sha256": sha256_of(self.root / rel), "records": records})

    def ndjson(self, rel: str, resources: Iterable[dict[str, Any]]) -> int:
        n = 0
        with self._open(rel) as fh:
            for res in resources:
                fh.write(dump_json(res) + "\n")
                n += 1
        self._record(rel, n)
        return n

    def lines(self, rel: str, lines: Iterable[str]) -> int:
        """An NDJSON file from lines already serialized (without their newline)."""
        n = 0
        with self._open(rel) as fh:
            for line in lines:
                fh.write(line)
                fh.write("\n")
                n += 1
        self._record(rel, n)
        return n

    def csv(self, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        n = 0
        with self._open(rel) as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(header)
            for row in rows:
                w.writerow(["" if v is None else v for v in row])
                n += 1
        self._record(rel, n)
        return n

    def text(self, rel: str, write: Callable[[TextIO], int]) -> int:
        """A file written by ``write``, which returns its record count."""
        with self._open(rel) as fh:
            n = write(fh)
        self._record(rel, n)
        return n

    def copy(self, rel: str, source: Path, records: int) -> int:
        """A file delivered again: the bytes of ``source`` (a file of an earlier batch)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        self._record(rel, records)
        return records

    def close(self) -> dict[str, Any]:
        return write_manifest(
            self.root, self.system, self.batch_id, iso(self.extracted_at), self.files
        )


def write_manifest(
    root: Path, system: str, batch: str, extracted_at: str, files: list[dict[str, Any]]
) -> dict[str, Any]:
    """Write a batch's ``_manifest.json`` (last, by rename) and return it."""
    manifest = {
        "system": system,
        "batch_id": batch,
        "extracted_at": extracted_at,
        "files": sorted(files, key=lambda f: f["path"]),
    }
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(root / MANIFEST)
    return manifest

"""Landing batches: ``<landing>/<system>/<batch_id>/…`` files, then ``_manifest.json`` last."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, TextIO, TypeVar

from billops.errors import BillopsError
from billops.synth.params import batch_id, iso

MANIFEST = "_manifest.json"
# rows serialized and written per chunk: large enough to amortize the writes, small enough that
# a month-long batch is never held whole in memory
CHUNK_ROWS = 8192

T = TypeVar("T")


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# one encoder for every resource: json.dumps with options builds a new encoder per call
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


# a str as a JSON string literal, as dump_json writes it (quoted, escaped, UTF-8 kept)
json_string = json.encoder.encode_basestring


def dump_json(obj: Any) -> str:
    """Deterministic JSON: keys keep their insertion order, no spaces, UTF-8 kept as is."""
    return _encode(obj)


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

    def _write(self, rel: str, chunks: Iterable[str]) -> str:
        """Write a file from text chunks and return its SHA-256, hashed on the way (the file
        is not read back)."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with path.open("wb") as fh:
            for chunk in chunks:
                data = chunk.encode("utf-8")
                digest.update(data)
                fh.write(data)
        return digest.hexdigest()

    def _add(self, rel: str, sha256: str, records: int) -> int:
        self.files.append({"path": rel, "sha256": sha256, "records": records})
        return records

    def ndjson(self, rel: str, resources: Iterable[dict[str, Any]]) -> int:
        return self.lines(rel, map(_encode, resources))

    def lines(self, rel: str, lines: Iterable[str]) -> int:
        """An NDJSON file from lines already serialized (without their newline)."""
        n = 0

        def text() -> Iterator[str]:
            nonlocal n
            for part in _chunks(lines):
                n += len(part)
                part.append("")  # the newline after the last line
                yield "\n".join(part)

        sha256 = self._write(rel, text())
        return self._add(rel, sha256, n)

    def csv(self, rel: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """A CSV file; None is written as an empty field."""
        n = 0
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)

        def text() -> Iterator[str]:
            nonlocal n
            for part in _chunks(rows):
                n += len(part)
                w.writerows(part)
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
            yield buf.getvalue()  # the header alone when there are no rows

        sha256 = self._write(rel, text())
        return self._add(rel, sha256, n)

    def text(self, rel: str, write: Callable[[TextIO], int]) -> int:
        """A file written by ``write``, which returns its record count."""
        with self._open(rel) as fh:
            n = write(fh)
        self._record(rel, n)
        return n

    def again(self, rel: str, data: bytes, records: int) -> int:
        """A file delivered again: ``data`` are the bytes of a file of an earlier batch."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return self._add(rel, hashlib.sha256(data).hexdigest(), records)

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


def _chunks(items: Iterable[T]) -> Iterator[list[T]]:
    it = iter(items)
    while part := list(islice(it, CHUNK_ROWS)):
        yield part

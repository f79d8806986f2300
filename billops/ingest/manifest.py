"""Batch manifests (``_manifest.json``), the file kinds of each system, and file verification."""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from billops.ingest.landing_files import BatchFolder, LandingFileError
from billops.raw_schema import CSV_FILES, FHIR_RESOURCES

MANIFEST = "_manifest.json"
SYSTEMS = ("ehr", "rcm", "erp")
BATCH_ID = re.compile(r"\d{8}T\d{6}Z")
BATCH_ID_FORMAT = "%Y%m%dT%H%M%SZ"
# A manifest lists files, not data: far below this even for thousands of files.
MANIFEST_MAX_BYTES = 16 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ManifestError(ValueError):
    """The manifest is missing a field, malformed, or disagrees with its folder."""


@dataclass(frozen=True)
class ManifestFile:
    path: str  # relative to the batch folder, POSIX separators
    sha256: str
    records: int
    # optional "snapshot": true: the file is a full snapshot of its reference table, so a key it
    # no longer holds is gone (otherwise a reference file replaces only the keys it contains)
    snapshot: bool = False


@dataclass(frozen=True)
class Manifest:
    system: str
    batch_id: str
    extracted_at: datetime  # naive UTC
    files: tuple[ManifestFile, ...]


@dataclass(frozen=True)
class FileKind:
    """How a landing file is read: ``format`` is ndjson, x12 or csv; ``name`` the resource type,
    the X12 transaction (837/835) or the CSV file name. ``format`` ``ignored`` is verified only."""

    format: str
    name: str


def _extracted_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise ManifestError("extracted_at is not an ISO 8601 timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ManifestError(f"extracted_at {value[:40]!r} is not an ISO 8601 timestamp") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _file(entry: object, index: int) -> ManifestFile:
    if not isinstance(entry, dict):
        raise ManifestError(f"files[{index}] is not an object")
    path, sha, records = entry.get("path"), entry.get("sha256"), entry.get("records")
    if not isinstance(path, str) or not path.strip():
        raise ManifestError(f"files[{index}].path is missing")
    pure = PurePosixPath(path.replace("\\", "/"))
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ManifestError(f"files[{index}].path holds a control character")
    if pure.is_absolute() or ".." in pure.parts or str(pure) == MANIFEST:
        raise ManifestError(f"files[{index}].path {path!r} is not a file inside the batch")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha.lower()):
        raise ManifestError(f"files[{index}].sha256 is not 64 hex digits")
    if not isinstance(records, int) or isinstance(records, bool) or records < 0:
        raise ManifestError(f"files[{index}].records is not a non-negative integer")
    snapshot = entry.get("snapshot", False)
    if snapshot is None:
        snapshot = False
    if not isinstance(snapshot, bool):
        raise ManifestError(f"files[{index}].snapshot is not true or false")
    return ManifestFile(str(pure), sha.lower(), records, snapshot)


def batch_time(batch_id: str) -> datetime | None:
    """The UTC time a batch id stands for (naive), or None when it is not a real time."""
    if not BATCH_ID.fullmatch(batch_id):
        return None
    try:
        return datetime.strptime(batch_id, BATCH_ID_FORMAT)
    except ValueError:
        return None


def check_times(manifest: Manifest, now: datetime, skew_hours: float) -> str | None:
    """Why the manifest's extracted_at cannot be trusted, or None: it must lie within
    ``skew_hours`` of its batch id and never after the run's clock ``now`` plus the same skew
    (extracted_at is the as-of time of every rule: one from the future would move them all)."""
    skew = timedelta(hours=skew_hours)
    stamp = batch_time(manifest.batch_id)
    if stamp is None:
        return f"batch id {manifest.batch_id} is not a real UTC time (YYYYMMDDTHHMMSSZ)"
    extracted = manifest.extracted_at
    if abs(extracted - stamp) > skew:
        return (
            f"extracted_at {extracted.isoformat()}Z is more than {skew_hours:g} h from its "
            f"batch id {manifest.batch_id}"
        )
    if extracted > now + skew:
        return (
            f"extracted_at {extracted.isoformat()}Z is after this run's clock "
            f"{now.replace(microsecond=0).isoformat()}Z plus {skew_hours:g} h"
        )
    return None


def read_manifest(folder: Path | BatchFolder, system: str) -> Manifest:
    """The batch's manifest, checked against its folder; ManifestError says what is wrong.

    The manifest is read like any landing file: a regular file inside the batch folder, never
    through a symbolic link.
    """
    try:
        if isinstance(folder, BatchFolder):
            data = folder.read_bytes(MANIFEST, MANIFEST_MAX_BYTES)
            name = folder.folder.name
        else:
            with BatchFolder(folder) as opened:
                data = opened.read_bytes(MANIFEST, MANIFEST_MAX_BYTES)
            name = folder.name
    except LandingFileError as exc:
        raise ManifestError(f"{MANIFEST}: {exc}") from exc
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{MANIFEST} is not readable JSON (not valid UTF-8)") from exc
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{MANIFEST} is not readable JSON ({exc})") from exc
    except RecursionError as exc:
        raise ManifestError(f"{MANIFEST} is not readable JSON (nested too deeply)") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"{MANIFEST} is not a JSON object")
    if doc.get("system") != system:
        raise ManifestError(f"manifest system {doc.get('system')!r} is not the folder's {system!r}")
    if doc.get("batch_id") != name:
        raise ManifestError(f"manifest batch_id {doc.get('batch_id')!r} is not the folder name")
    files = doc.get("files")
    if not isinstance(files, list):
        raise ManifestError("manifest has no files list")
    entries = tuple(_file(entry, i) for i, entry in enumerate(files))
    paths = [f.path for f in entries]
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise ManifestError(f"manifest lists {', '.join(repeated)} more than once")
    return Manifest(system, name, _extracted_at(doc.get("extracted_at")), entries)


# A bulk export names a file after its resource type, numbered when it splits the type:
# Patient.ndjson, Patient.1.ndjson, Patient_000.ndjson, Patient-2.ndjson.
_NDJSON_NAME = re.compile(r"(?P<resource>[A-Za-z]+)(?:[._-]\d+)?\.ndjson")


def file_kind(system: str, path: str) -> FileKind | None:
    """How a manifest path of ``system`` is read, or None when it is no file of that system.

    An EHR ``.ndjson`` file at the batch root whose name gives no resource type this warehouse
    loads is ``ignored``: verified and recorded in raw._loads (status IGNORED), never read."""
    parts = PurePosixPath(path).parts
    if system == "ehr" and len(parts) == 1 and path.endswith(".ndjson"):
        named = _NDJSON_NAME.fullmatch(path)
        resource = named["resource"] if named else path[: -len(".ndjson")]
        return (
            FileKind("ndjson", resource)
            if resource in FHIR_RESOURCES
            else FileKind("ignored", resource)
        )
    if system == "rcm" and len(parts) == 2 and parts[0] in ("837", "835"):
        return FileKind("x12", parts[0])
    if len(parts) == 1 and path in CSV_FILES and CSV_FILES[path].system == system:
        return FileKind("csv", path)
    return None


def digest(path: Path, chunk: int = 1 << 20) -> tuple[str, str | None]:
    """sha256 of the file and, when it is not valid UTF-8, where (one pass)."""
    sha = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    problem: str | None = None
    lines = 1
    with open(path, "rb") as handle:
        while data := handle.read(chunk):
            sha.update(data)
            if problem is None:
                try:
                    decoder.decode(data)
                except UnicodeDecodeError as exc:
                    line = lines + data[: exc.start].count(b"\n")
                    problem = f"not valid UTF-8 (line {line})"
                lines += data.count(b"\n")
        if problem is None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                problem = "not valid UTF-8 (truncated character at the end)"
    return sha.hexdigest(), problem

"""Merge the landing batches that parallel parts of the simulation wrote.

Each part (params.Scale.parts) writes a complete landing tree of its own patients with the same
batches. The merged batch holds every part's files: a CSV or NDJSON file that several parts
wrote is concatenated in part order (a CSV keeps the first header only); X12 files carry the
part in their name and are moved as they are. The manifest is written last, as always.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from billops.synth.landing import MANIFEST, write_manifest
from billops.synth.params import SYSTEMS


def merge_parts(
    parts: list[Path], landing: Path, say: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Merge the part trees into ``landing``; returns one summary row per batch, in extract
    order per system."""
    batches = []
    for system in SYSTEMS:
        for folder in sorted((parts[0] / system).iterdir()):
            manifests = [
                json.loads((p / system / folder.name / MANIFEST).read_text()) for p in parts
            ]
            dest = landing / system / folder.name
            dest.mkdir(parents=True)
            sources: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
            for part, manifest in zip(parts, manifests, strict=True):
                for entry in manifest["files"]:
                    sources.setdefault(entry["path"], []).append(
                        (part / system / folder.name / entry["path"], entry)
                    )
            files = [
                {"path": rel} | _merge_file(dest / rel, found)
                for rel, found in sorted(sources.items())
            ]
            manifest = write_manifest(
                dest, system, folder.name, manifests[0]["extracted_at"], files
            )
            batches.append(
                {
                    "system": system,
                    "batch_id": folder.name,
                    "extracted_at": manifest["extracted_at"],
                    "files": len(files),
                    "records": sum(f["records"] for f in files),
                }
            )
            say(f"wrote {system} batch {folder.name}")
    return batches


def _merge_file(target: Path, found: list[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    target.parent.mkdir(parents=True, exist_ok=True)
    records = sum(entry["records"] for _, entry in found)
    if len(found) == 1:
        os.replace(found[0][0], target)
        return {"sha256": found[0][1]["sha256"], "records": records}
    # the first part's file becomes the merged file, the others are appended to it
    os.replace(found[0][0], target)
    with target.open("ab") as out:
        for path, _ in found[1:]:
            with path.open("rb") as src:
                if target.suffix == ".csv":
                    src.readline()  # the header, kept from the first part only
                shutil.copyfileobj(src, out, 1 << 20)
            path.unlink()
    digest = hashlib.sha256()
    with target.open("rb") as merged:
        while chunk := merged.read(1 << 20):
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "records": records}

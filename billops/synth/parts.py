"""Merge the landing batches that parallel parts of the simulation wrote.

Each part (params.Scale.parts) writes a complete landing tree of its own patients with the same
batches. The merged batch holds every part's files: a CSV or NDJSON file that several parts
wrote is concatenated in part order (a CSV keeps the first header only); X12 files carry the
part in their name and are moved as they are. The manifest is written last, as always. A batch
is merged as soon as every part has written it, while the parts simulate the later ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from billops.synth.landing import MANIFEST, write_manifest
from billops.synth.params import SYSTEMS


def merge_parts(
    parts: list[Path],
    landing: Path,
    say: Callable[[str], None],
    batches: Iterable[tuple[str, str]] | None = None,
    wait: Callable[[list[Path]], None] | None = None,
) -> list[dict[str, Any]]:
    """Merge the part trees into ``landing``; returns one summary row per batch, in extract
    order per system.

    ``batches`` lists the (system, batch id) pairs in the order the parts write them (default:
    every batch of the first part's tree, per system); ``wait(manifests)`` returns once every
    one of the given part manifests exists, so that batches are merged while the parts are
    still simulating later ones."""
    if batches is None:
        batches = [
            (system, folder.name)
            for system in SYSTEMS
            for folder in sorted((parts[0] / system).iterdir())
        ]
    rows = {}
    for system, batch in batches:
        if wait is not None:
            wait([p / system / batch / MANIFEST for p in parts])
        rows[(system, batch)] = merge_batch(parts, landing, system, batch)
        say(f"wrote {system} batch {batch}")
    order = {system: i for i, system in enumerate(SYSTEMS)}
    return [rows[key] for key in sorted(rows, key=lambda k: (order[k[0]], k[1]))]


def merge_batch(parts: list[Path], landing: Path, system: str, batch: str) -> dict[str, Any]:
    """Merge one batch that every part has written; returns its summary row."""
    manifests = [json.loads((p / system / batch / MANIFEST).read_text()) for p in parts]
    dest = landing / system / batch
    dest.mkdir(parents=True)
    sources: dict[str, list[tuple[Path, dict[str, Any]]]] = {}
    for part, manifest in zip(parts, manifests, strict=True):
        for entry in manifest["files"]:
            sources.setdefault(entry["path"], []).append(
                (part / system / batch / entry["path"], entry)
            )
    files = [
        {"path": rel}
        | _merge_file(dest / rel, found)
        | ({"snapshot": True} if any(e.get("snapshot") for _, e in found) else {})
        for rel, found in sorted(sources.items())
    ]
    manifest = write_manifest(dest, system, batch, manifests[0]["extracted_at"], files)
    return {
        "system": system,
        "batch_id": batch,
        "extracted_at": manifest["extracted_at"],
        "files": len(files),
        "records": sum(f["records"] for f in files),
    }


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

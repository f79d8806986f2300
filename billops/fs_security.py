"""Owner-only files under ``$BILLOPS_HOME`` (issue 13, docs/security.md).

The home holds PHI (landing extracts, the raw zone, the warehouse, quarantined batches, the
operational store), so every entry point that writes there sets the process umask to 077 before
it creates anything: files come out 0600 and folders 0700 whatever the login's default umask.
The umask is process-wide: an Airflow task sets it and leaves it; ``billops.cli.main`` restores
the caller's on return, so an in-process caller (a test) keeps its own.
"""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def owner_only_umask() -> int:
    """Set the umask to 077; returns the previous one (for callers that restore it)."""
    return os.umask(OWNER_ONLY_UMASK)



def write_owner_only(path: Path, text: str, *, replace: bool = True) -> None:
    """Write ``text`` to an owner-only (0600) temporary file beside ``path``, flushed to disk, then
    rename it into place, so a reader sees the whole file or none. With ``replace=False`` an
    existing ``path`` is never overwritten: FileExistsError (two writers cannot both win)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(partial, path)
        else:
            os.link(partial, path)  # atomic, and fails when the name is taken
    finally:
        partial.unlink(missing_ok=True)

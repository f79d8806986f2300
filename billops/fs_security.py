"""Owner-only files under ``$BILLOPS_HOME`` (issue 13, docs/security.md).

The home holds PHI (landing extracts, the raw zone, the warehouse, quarantined batches, the
operational store), so every entry point that writes there sets the process umask to 077 before
it creates anything: files come out 0600 and folders 0700 whatever the login's default umask.
The umask is process-wide: an Airflow task sets it and leaves it; ``billops.cli.main`` restores
the caller's on return, so an in-process caller (a test) keeps its own.
"""

from __future__ import annotations

import os

OWNER_ONLY_UMASK = 0o077


def owner_only_umask() -> int:
    """Set the umask to 077; returns the previous one (for callers that restore it)."""
    return os.umask(OWNER_ONLY_UMASK)


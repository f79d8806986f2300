"""Who works the accounts: the user names on claim events and write-offs."""

from __future__ import annotations

BILLERS = tuple(f"biller{i:02d}" for i in range(1, 13))
REGISTRARS = tuple(f"registrar{i:02d}" for i in range(1, 9))
SUPERVISORS = ("billing.supervisor01", "billing.supervisor02")

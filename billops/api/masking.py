"""The last guard before a response leaves: any field named in the PHI vocabulary is masked.

Work items, adjustments and audit rows carry no PHI by contract (patients appear only as
``patient_key`` tokens); this pass keeps it so if a field is ever added under a PHI name. Only
the patient route returns PHI, and only from the PHI store's audited lookup.
"""

from __future__ import annotations

from typing import Any

from billops.phi import MASK, is_phi


def mask_phi(value: Any) -> Any:
    """``value`` with every PHI-named key's value (at any depth) replaced by the mask."""
    if isinstance(value, dict):
        return {k: (MASK if is_phi(str(k)) and v is not None else mask_phi(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_phi(v) for v in value]
    return value

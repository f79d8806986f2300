"""``GET /api/v1/patients/{patient_key}``: a patient's PHI, through the PHI store's audited lookup.

Only roles in ``BILLOPS_PHI_ROLES`` get an answer; every call, granted or refused, is audited by
``billops.phi_store.lookup_patient`` (channel ``api``), so a refused role still reaches it and is
then told 403. An unknown key is 404; a value that is not a key is 422 and is never echoed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from billops.api.routers.common import error_responses
from billops.api.schemas import PatientOut
from billops.api.security import CurrentUser, settings_of
from billops.errors import BillopsError, ForbiddenError, NotFoundError
from billops.phi import TOKEN_HEX
from billops.phi_store import lookup_patient as phi_lookup

router = APIRouter(tags=["patients"], responses=error_responses(401, 403, 404, 422, 429))


@router.get("/patients/{patient_key}", name="lookup_patient", operation_id="lookup_patient",
            response_model=PatientOut)
def lookup_patient(
    request: Request, user: CurrentUser,
    patient_key: Annotated[str, Path(min_length=1, max_length=128)],
) -> dict[str, Any]:
    """The patient's MRN, names, birth date, postal code and member ids (PHI roles only)."""
    phi_roles = settings_of(request).phi_roles
    key = patient_key.strip().lower()
    try:
        patient = phi_lookup(key, actor=user.name, role=user.role, channel="api")
    except BillopsError as exc:
        if user.role not in phi_roles:
            raise ForbiddenError(f"role {user.role} may not see PHI") from exc
        if len(key) == TOKEN_HEX and "no patient" in str(exc):
            raise NotFoundError(f"no patient with key {key}") from exc
        raise BillopsError(f"a patient key is {TOKEN_HEX} hex digits") from exc
    return {"patient_key": key, **patient}

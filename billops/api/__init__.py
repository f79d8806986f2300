"""The governed HTTP API, ``billops api`` (issue 15; docs/api.md).

``create_app`` builds the FastAPI app: routers per resource (:mod:`billops.api.routers`), the
bearer-token and role check of every route (:mod:`billops.api.security`, the table in
:mod:`billops.api.roles`), one-line JSON errors (:mod:`billops.api.errors`), request ids and the
per-token rate limit (:mod:`billops.api.middleware`). Every route calls the same billops
functions the dashboard and the CLI call (``billops.workflow``, ``billops.ops_store``,
``billops.phi_store``); none reads or writes the warehouse.
"""

from __future__ import annotations

from billops.api.app import create_app

__all__ = ["create_app"]

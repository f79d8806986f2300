"""``billops api``: serve the governed HTTP API with uvicorn (docs/api.md)."""

from __future__ import annotations

import logging
import os
from typing import Annotated, Any

import typer

from billops.config import get_settings
from billops.errors import BillopsError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging with the request id on every line (``-`` outside a request)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "billops.api.context.RequestIdFilter"}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            # billops.api.access writes one line per request, with its id; uvicorn's would not.
            "uvicorn.access": {"level": "WARNING"},
            "billops.api.access": {"level": "INFO"},
        },
    }


def api(
    host: Annotated[str | None, typer.Option(
        help="address to listen on (default BILLOPS_BIND_ADDRESS, 127.0.0.1)")] = None,
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Serve the governed HTTP API (/api/v1, bearer tokens of `billops users add`), on
    BILLOPS_BIND_ADDRESS (default 127.0.0.1); the OpenAPI document at /api/v1/openapi.json."""
    import uvicorn

    from billops.api import create_app

    settings = get_settings()
    address = host or settings.bind_address
    if not 0 < port < 65536:
        raise BillopsError(f"--port {port}: expected 1-65535")
    level = os.environ.get("BILLOPS_LOG_LEVEL", "INFO").upper()
    logging.getLogger(__name__).debug("serving the API on %s:%s", address, port)
    config = uvicorn.Config(create_app(settings), host=address, port=port, access_log=False,
                            log_config=log_config(level), server_header=False)
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise BillopsError(f"cannot serve the API on {address}:{port} ({exc.strerror or exc})") from exc
    except SystemExit as exc:  # uvicorn exits when it cannot bind, after logging why
        raise BillopsError(f"cannot serve the API on {address}:{port} (see the error above)") from exc
    if not server.started:
        raise BillopsError(f"cannot serve the API on {address}:{port} (see the error above)")


def register(app: typer.Typer) -> None:
    """Add ``billops api`` to the CLI."""
    app.command("api")(api)

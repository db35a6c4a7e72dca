"""Composition root: builds the use cases' context once per Lambda container (or local process),
choosing each port's adapter (`wiring.py` says which).

Cheap to import, because every route module reaches the context through here and app.py imports
them all on a cold start: the adapters, and with them PynamoDB, botocore, cryptography, PyJWT and
WeChat Pay's SDK, load on the first call that needs them. The token authorizer loads only the
token service (and, for a staff token, the staff store), and the cold-start metric only the
metrics adapter (a health check builds no context): those live in `container`."""
from __future__ import annotations

from typing import Any

from . import config, container
from .container import metrics, staff_standing, token_service
from .lazy import LazyModule
from .service_layer.context import Context

__all__ = ["context", "metrics", "reset", "staff_standing", "token_service"]

_wiring = LazyModule(".wiring", __package__)
_context: Context | None = None


def context() -> Context:
    global _context
    if _context is None:
        _context = _wiring.build_context()
    return _context


def reset(**pieces: Any) -> Context | None:
    """Tests rebuild the context after changing configuration; with `pieces` (ports or settings
    by their field names) the new context has those in place of wiring's choice."""
    global _context
    container.forget()
    config.reset_caches()
    _context = _wiring.build_context(**pieces) if pieces else None
    return _context

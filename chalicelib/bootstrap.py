"""Composition root: builds the use cases' context once per Lambda container (or local process),
choosing each port's adapter (`wiring.py` says which).

Cheap to import, because every route module reaches the context through here and app.py imports
them all on a cold start: the adapters, and with them PynamoDB, botocore, cryptography, PyJWT and
WeChat Pay's SDK, load on the first call that needs them. The token authorizer loads only the
token service (and, for a staff token, the staff store), and the cold-start metric only the
metrics adapter (a health check builds no context)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import config
from .adapters.metrics import EmfMetrics
from .lazy import LazyModule
from .service_layer.context import Context

if TYPE_CHECKING:
    from .adapters.security import TokenService
    from .service_layer.ports import StaffStanding

_wiring = LazyModule(".wiring", __package__)
_security = LazyModule(".adapters.security", __package__)
_people = LazyModule(".adapters.people_repository", __package__)
_context: Context | None = None


@functools.lru_cache(maxsize=1)
def token_service() -> TokenService:
    """Shared by the token authorizer, which needs nothing else of the context."""
    return _security.TokenService(config.token_signing_keys, config.settings().token_ttl_seconds)


@functools.lru_cache(maxsize=1)
def staff_standing() -> StaffStanding:
    """The authorizer's one read of a staff token's account, without building the context."""
    return _people.PeopleRepository()  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def metrics() -> EmfMetrics:
    """The context's metrics, also reached without building the context (the cold-start metric)."""
    return EmfMetrics()


def context() -> Context:
    global _context
    if _context is None:
        _context = _wiring.build_context()
    return _context


def reset() -> None:
    """Tests rebuild the context after changing configuration."""
    global _context
    _context = None
    token_service.cache_clear()
    staff_standing.cache_clear()
    config.reset_caches()

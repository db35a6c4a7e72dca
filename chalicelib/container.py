"""What one Lambda container (or local process) keeps across requests, each built on first use:
the token service and the staff standing that the token authorizer needs without the rest of
the context, and the metrics that the cold-start metric needs without any of it. Light to
import: bootstrap (the composition root) and wiring (which adapter serves each port) both take
these from here, so neither imports the other back."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from . import config
from .adapters.metrics import EmfMetrics
from .lazy import LazyModule

if TYPE_CHECKING:
    from .adapters.security import TokenService
    from .service_layer.ports import StaffStanding

_security = LazyModule(".adapters.security", __package__)
_people = LazyModule(".adapters.people_repository", __package__)


@functools.lru_cache(maxsize=1)
def token_service() -> TokenService:
    return _security.TokenService(config.token_signing_keys, config.settings().token_ttl_seconds)


@functools.lru_cache(maxsize=1)
def staff_standing() -> StaffStanding:
    """The authorizer's one read of a staff token's account."""
    return _people.PeopleRepository()  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1)
def metrics() -> EmfMetrics:
    return EmfMetrics()


def forget() -> None:
    token_service.cache_clear()
    staff_standing.cache_clear()

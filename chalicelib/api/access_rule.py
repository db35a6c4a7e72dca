"""A route's rule (who may call it, what it takes and answers) and the groups of roles the
routing table names: api.access holds the table itself, its promotions part in
api.promotion_access."""
from __future__ import annotations

from dataclasses import dataclass, field

ANYONE = "anyone"        # no token needed
CUSTOMER = "customer"    # a token from /auth/wechat/login
ALL_STAFF = frozenset({"admin", "merchandiser", "finance", "support", "scanner", "auditor"})


@dataclass(frozen=True)
class Rule:
    who: frozenset[str]
    summary: str
    request: str | None = None            # schema name in openapi_schemas.REQUESTS, or a media type
    response: str | None = None
    status: int = 200
    errors: tuple[str, ...] = ()          # codes beyond the common 400/401/403
    query: tuple[str, ...] = ()           # names, or name:schema where the schema differs (status:order_status)
    content_type: str = "application/json"
    idempotent: bool = False              # honours Idempotency-Key
    optional_body: bool = False           # the request body may be left out
    local_only: bool = False              # exists in the local stage only (the /dev/ routes)
    tags: tuple[str, ...] = field(default_factory=tuple)
    csv: bool = False                     # ?format=csv answers text/csv instead
    redirect: str | None = None           # may answer 302 to this path instead

    @property
    def public(self) -> bool:
        return ANYONE in self.who

    def allows(self, kind: str, roles: frozenset[str]) -> bool:
        if self.public:
            return True
        if kind == "customer":
            return CUSTOMER in self.who
        return bool(roles & self.who)


def who(*names: str) -> frozenset[str]:
    return frozenset(names)


CATALOG_EDITORS = who("admin", "merchandiser")
ORDER_STAFF = who("admin", "support", "finance")
BACK_OFFICE = ALL_STAFF - {"scanner"}
FINANCE_READERS = who("finance", "admin", "auditor")
PAGE = ("limit", "cursor")

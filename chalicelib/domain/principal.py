"""Who is calling a use case."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """A customer (`user_id`) or a staff member (`username`) with roles."""
    subject: str
    kind: str                      # "customer" | "staff"
    roles: frozenset[str] = frozenset()
    openid: str | None = None      # a customer's WeChat openid: the payer of their orders

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

"""Who is calling a use case."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """A customer (`user_id`) or a staff member (`username`) with roles."""
    subject: str
    kind: str                      # "customer" | "staff"
    roles: frozenset[str] = frozenset()
    openid: str | None = None      # a customer's WeChat openid: the payer of their orders
    # A staff token's account generation, id and end (epoch seconds): what revokes it (a changed
    # account, a logout). Not part of who the caller is, so not compared.
    generation: int | None = field(default=None, compare=False)
    token_id: str | None = field(default=None, compare=False)
    token_expires: int | None = field(default=None, compare=False)

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

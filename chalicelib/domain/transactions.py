"""DynamoDB's limit on one transaction, and what the use cases whose writes grow with their input
may put in one. A use case stays inside it by construction: its input is bounded (an order's
lines, a stocktake's counts, a refund's tickets), or its work is cut into steps that each commit
and can be resumed (a large order's tickets are issued in batches)."""
from __future__ import annotations

MAX_ITEMS = 100                   # TransactWriteItems holds at most 100 actions

# What approving a refund writes besides its codes: the refund, the order and the audit record.
APPROVAL_FIXED_ITEMS = 3


def approval_items(codes: int, taken_over: int) -> int:
    """Approving a refund: every code it takes back (revoked in the same transaction), and each
    failed refund whose codes it takes over (marked superseded in it too)."""
    return APPROVAL_FIXED_ITEMS + codes + taken_over

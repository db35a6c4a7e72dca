"""What the refund use cases touch: the request and review side (refunds.py) and the side that
settles on WeChat's word (refund_settlement.py, refund_queries.py) alike, so that neither
imports the other for it."""
from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from . import ports
from .orders import Ordering


class Refunding(Ordering, Protocol):
    @property
    def refunds(self) -> ports.RefundStore: ...
    @property
    def refund_max_attempts(self) -> int: ...
    @property
    def refund_query_after(self) -> timedelta: ...
    @property
    def auto_receipt_after(self) -> timedelta: ...
    @property
    def after_sales(self) -> ports.AfterSaleStore: ...      # a return's refund completes its after-sale

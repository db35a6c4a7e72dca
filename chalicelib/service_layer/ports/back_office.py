"""What the back office's use cases (figures, reports, reconciliation) need from storage."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from ...domain.reconciliation import Reconciliation
from ...domain.figure_facts import OrderFacts
from ...domain.figures import Figures
from .storage import Writes


class AggregateCounters(Protocol):
    def count(self, uow: Writes, change_ids: list[str], figures: Figures, at: datetime) -> None: ...
    def read(self, buckets: list[str]) -> dict[str, dict[str, Any]]: ...


class SaleLookup(Protocol):
    def sales(self, order_ids: list[str]) -> dict[str, OrderFacts]: ...


class Reconciliations(Protocol):
    def save(self, result: Reconciliation) -> None: ...
    def of_day(self, day: str) -> Reconciliation: ...

"""Use cases on the fakes: each test gets a fresh shop (`ctx`) and retries that do not wait."""
from __future__ import annotations

import pytest

from chalicelib.service_layer.context import Context
from tests.fakes import FakeDatabase, db, fake_context


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after a conflict pause a random moment; the fakes' conflicts need no waiting."""
    monkeypatch.setattr("chalicelib.service_layer.retrying.BASE_SECONDS", 0.0)


@pytest.fixture
def ctx() -> Context:
    return fake_context()


@pytest.fixture
def database(ctx: Context) -> FakeDatabase:
    return db(ctx)

"""The ports' contract (tests/port_contract.py) on the in-memory fakes. Its twin on the DynamoDB
adapters is tests/api/test_port_contract_moto.py: a fake that disagrees with its adapter fails
one of the two."""
from __future__ import annotations

import pytest

from chalicelib.service_layer.context import Context
from tests.fakes import fake_context
from tests.port_contract import *  # noqa: F401,F403  (the contract's tests, collected here)


@pytest.fixture
def ports() -> Context:
    return fake_context()

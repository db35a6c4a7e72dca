"""The ports' contract (tests/port_contract.py) on the DynamoDB adapters, as chalicelib.wiring
builds them, on moto. Its twin on the fakes is tests/unit/test_port_contract_fakes.py."""
from __future__ import annotations

import pytest

from chalicelib import bootstrap
from chalicelib.service_layer.context import Context
from tests.port_contract import *  # noqa: F401,F403  (the contract's tests, collected here)


@pytest.fixture
def ports(tables: None) -> Context:
    from chalicelib import wiring
    bootstrap.reset()
    return wiring.build_context()

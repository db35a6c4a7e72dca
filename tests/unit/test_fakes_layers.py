"""The unit layer stays free of AWS: the fakes, the ports' contract and the use-case tests import
nothing of boto3, botocore, PynamoDB, moto or the adapters (the contract's moto twin lives in
tests/api)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .test_layers import imports

TESTS = Path(__file__).resolve().parents[1]
FORBIDDEN = ("boto3", "botocore", "pynamodb", "moto", "chalice", "chalicelib.adapters", "chalicelib.wiring",
             "chalicelib.bootstrap", "chalicelib.api", "app")
AWS_FREE = sorted([*(TESTS / "fakes").glob("*.py"), TESTS / "port_contract.py",
                   TESTS / "unit" / "test_port_contract_fakes.py", *(TESTS / "unit" / "usecases").glob("*.py")])


@pytest.mark.parametrize("path", AWS_FREE, ids=lambda p: str(p.relative_to(TESTS)))
def test_the_fakes_and_the_use_case_tests_import_nothing_of_aws(path: Path) -> None:
    for module, _ in imports(path):
        assert not any(module == f or module.startswith(f + ".") for f in FORBIDDEN), (path.name, module)

"""Error codes are one enum the API maps to statuses: a code nobody gave a status, a misspelt
code in the access table, or a raise site whose error class answers another status than the
table (and so /openapi.json) says, fails here rather than in a client."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.api.access import ROUTES
from chalicelib.api.errors import STATUS
from chalicelib.api.gateway_responses import GATEWAY_RESPONSES
from chalicelib.api.openapi import ERROR_STATUS
from chalicelib.domain import errors
from chalicelib.domain.error_codes import ErrorCode

LIB = Path(__file__).resolve().parents[2] / "chalicelib"
# A code the access table gives a status of its own (CODE@status), by route.
PER_ROUTE = {(code, int(status)) for rule in ROUTES.values() for entry in rule.errors
             for code, _, status in [entry.partition("@")] if status}


def test_every_code_has_a_status() -> None:
    assert set(ErrorCode) == set(ERROR_STATUS) | {ErrorCode(code) for code, _ in PER_ROUTE}


def test_every_code_the_access_table_lists_is_an_error_code() -> None:
    listed = {entry.partition("@")[0] for rule in ROUTES.values() for entry in rule.errors}
    assert listed - set(ErrorCode) == set()


def test_each_error_class_answers_the_status_of_its_own_code() -> None:
    for cls, status in STATUS.items():
        assert ERROR_STATUS[cls.code] == status, cls.__name__


def test_api_gateways_own_answers_have_their_codes_statuses() -> None:
    for kind, (status, code, _) in GATEWAY_RESPONSES.items():
        assert ERROR_STATUS[code] == status, kind


def _raise_sites() -> list[tuple[str, str, str]]:
    """(where, error class, code) of every `SomeError(..., code=ErrorCode.X)` in chalicelib."""
    found = []
    for path in LIB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "code" and isinstance(value, ast.Attribute) and \
                        isinstance(value.value, ast.Name) and value.value.id == "ErrorCode":
                    found.append((f"{path.relative_to(LIB)}:{node.lineno}", node.func.id, value.attr))
    return found


SITES = _raise_sites()


def test_the_raise_sites_are_found() -> None:
    assert len(SITES) > 80


@pytest.mark.parametrize("where, name, code", SITES, ids=[s[0] for s in SITES])
def test_a_raise_site_answers_the_status_its_code_is_documented_with(where: str, name: str, code: str) -> None:
    cls = getattr(errors, name)
    status = next(s for c, s in STATUS.items() if issubclass(cls, c))
    documented = {ERROR_STATUS[ErrorCode[code]]} if ErrorCode[code] in ERROR_STATUS else \
        {s for c, s in PER_ROUTE if c == code}
    assert status in documented

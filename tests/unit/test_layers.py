"""Dependencies point inward only: the domain imports nothing of AWS or of the other layers,
the service layer speaks the domain through its ports, and the stores share only public
plumbing."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chalicelib.domain.error_codes import ErrorCode
from chalicelib.domain.errors import Busy, Conflict
from chalicelib.service_layer.ports import WriteRefused
from chalicelib.service_layer.tags import ItemTag, Tag
from chalicelib.service_layer.writes import commit

LIB = Path(__file__).resolve().parents[2] / "chalicelib"


def imports(path: Path) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = ("." * node.level) + (node.module or "")
            found.append((module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names)
    return found


@pytest.mark.parametrize("layer, forbidden", [
    ("domain", ("boto", "botocore", "pynamodb", "chalice", "aws_lambda_powertools", ".adapters", "..adapters",
                "..service_layer", "..api", "..bootstrap")),
    ("service_layer", ("boto3", "botocore", "pynamodb", "chalice", "..adapters", "..api", "..bootstrap")),
])
def test_inner_layers_import_nothing_outward(layer: str, forbidden: tuple[str, ...]) -> None:
    for path in (LIB / layer).glob("*.py"):
        for module, _ in imports(path):
            assert not any(module == f or module.startswith(f + ".") for f in forbidden), (path.name, module)


# What the stores may know of the service layer: the ports they implement and the named values
# both sides read (the tags of their writes, the queue's message types); never a use case.
SERVICE_LAYER_BOUNDARY = ("..service_layer.ports", "..service_layer.tags", "..service_layer.queue_messages")


def test_adapters_reach_the_service_layer_only_through_its_boundary() -> None:
    for path in (LIB / "adapters").glob("*.py"):
        for module, _ in imports(path):
            if module.startswith("..service_layer"):
                assert module in SERVICE_LAYER_BOUNDARY, (path.name, module)


def test_no_module_imports_another_modules_private_names() -> None:
    for path in LIB.rglob("*.py"):
        for module, names in imports(path):
            assert not [n for n in names if n.startswith("_") and n != "__future__" and module != "__future__"], \
                (path.relative_to(LIB), module, names)


def test_no_module_in_chalicelib_is_a_catch_all() -> None:
    assert {p.name: n for p in LIB.rglob("*.py") if (n := len(p.read_text().splitlines())) > 320} == {}


def test_an_item_tag_is_a_prefix_with_its_items_id_and_a_tag_is_whole() -> None:
    assert all(t.endswith(":") for t in ItemTag) and not any(":" in t for t in Tag)
    assert ItemTag.SKU.of("S1") == "sku:S1" and ItemTag.SKU.id_in("sku:S1") == "S1"
    assert ItemTag.SKU.id_in("shard:S1") is None and ItemTag.SHARD.matches("shard:S1")
    assert ItemTag.COUNTED.ids_in(["counted:e1", "bucket:b", "counted:e2"]) == ["e1", "e2"]


class RefusingWrites:
    def __init__(self, failed: list[str], conflicted: bool = False) -> None:
        self.refusal = WriteRefused(failed, conflicted, {})

    def commit(self) -> None:
        raise self.refusal


def test_commit_explains_a_refusal_in_the_domains_words() -> None:
    explain = {Tag.IDEMPOTENCY: None,
               ItemTag.SKU: lambda sku: Conflict("sold out", code=ErrorCode.SOLD_OUT, sku_id=sku)}
    with pytest.raises(Conflict) as raised:
        commit(RefusingWrites([Tag.ORDER, ItemTag.SKU.of("S1")]), explain)
    assert raised.value.details == {"sku_id": "S1"}
    # the first explanation that applies decides, whatever order the writes failed in
    assert commit(RefusingWrites([ItemTag.SKU.of("S1"), Tag.IDEMPOTENCY]), explain) is False
    with pytest.raises(WriteRefused):
        commit(RefusingWrites(["somebody-else"]), explain)         # a refusal nobody explained


def test_commit_retries_conflicts_and_then_says_busy(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("chalicelib.service_layer.retrying.BASE_SECONDS", 0.0)
    conflicted = RefusingWrites([], conflicted=True)
    calls = []
    conflicted.commit = lambda: (calls.append(1), (_ for _ in ()).throw(conflicted.refusal))  # type: ignore[method-assign]
    with pytest.raises(Busy) as raised:
        commit(conflicted)
    assert len(calls) == 3 and raised.value.code == "TRY_AGAIN"
    flaky = RefusingWrites([], conflicted=True)
    left = [2]

    def once_more() -> None:
        if left[0]:
            left[0] -= 1
            raise flaky.refusal
    flaky.commit = once_more  # type: ignore[method-assign]
    assert commit(flaky) is True

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


def test_no_name_is_used_undefined_or_imported_for_nothing() -> None:
    """pyflakes over the app, the local stack and the infrastructure: a name used without its
    import (a NameError waiting on a rare branch) fails here, not in production."""
    import subprocess
    import sys
    root = LIB.parent
    found = subprocess.run([sys.executable, "-m", "pyflakes", "chalicelib", "local", "infra", "app.py"], cwd=root,
                           capture_output=True, text=True)
    assert found.stdout == "" and found.returncode == 0, found.stdout


def _imports_of(path: Path) -> set[str]:
    """Every chalicelib module a module imports, at its top or inside a function, and every one a
    LazyModule names: a lazy import is still an arrow."""
    import ast
    module = ".".join(path.relative_to(LIB.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")

    def absolute(name: str, level: int) -> str:
        if not level:
            return name
        base = package.split(".")[: len(package.split(".")) - (level - 1)]
        return ".".join(base + ([name] if name else []))

    def known(name: str) -> str | None:
        candidate = LIB.parent / Path(*name.split("."))
        if candidate.with_suffix(".py").exists():
            return name
        if (candidate / "__init__.py").exists():
            return name + ".__init__"
        return None

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node.module or "", node.level)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LazyModule" and node.args:
            text = node.args[0].value if isinstance(node.args[0], ast.Constant) else ""
            level = len(text) - len(text.lstrip("."))
            names = [absolute(text.lstrip("."), level)]
        found |= {m for n in names if n.startswith("chalicelib") and (m := known(n))}
    return found - {module}


def test_no_circle_of_imports_hidden_or_not() -> None:
    """Tarjan's strongly connected components over chalicelib's imports, LazyModule included (a
    package's __init__ is left out: importing a module through its package is not a use of it)."""
    graph = {".".join(p.relative_to(LIB.parent).with_suffix("").parts): {i for i in _imports_of(p)
                                                                         if not i.endswith("__init__")}
             for p in LIB.rglob("*.py") if p.name != "__init__.py"}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []

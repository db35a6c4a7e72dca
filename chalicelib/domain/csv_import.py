"""The back office's batch import: one CSV row per SKU, rows grouped into products by the
`product` column. Product fields are read from a product's first row."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterator

from .catalog_commands import MAX_SKUS_PER_REQUEST, NewProduct, parse_new_product
from .errors import DomainError, InvalidInput

COLUMNS = ("product", "kind", "name", "description", "category", "tags", "status", "purchase_limit",
           "real_name", "fulfillment", "sku_name", "price", "stock", "low_stock_threshold",
           "session_start", "session_end", "valid_from", "valid_until", "attributes")
REQUIRED = ("product", "kind", "name", "sku_name", "price")
MAX_ROWS = 2000
MAX_BYTES = 1_000_000


class _RowError(Exception):
    pass


def _int(row: dict[str, str], name: str) -> int | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise _RowError(f"{name} must be a whole number (fen for prices), not {value!r}") from None


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split("|") if v.strip()]


def _sku(row: dict[str, str]) -> dict[str, Any]:
    sku: dict[str, Any] = {"name": row.get("sku_name"), "price": _int(row, "price"),
                           "stock": _int(row, "stock") or 0,
                           "low_stock_threshold": _int(row, "low_stock_threshold") or 0}
    if (row.get("session_start") or "").strip():
        sku["session"] = {"start": row["session_start"].strip(), "end": (row.get("session_end") or "").strip()}
    for name in ("valid_from", "valid_until"):
        if (row.get(name) or "").strip():
            sku[name] = row[name].strip()
    attributes = {}
    for pair in _list(row.get("attributes")):
        key, _, value = pair.partition("=")
        attributes[key.strip()] = value.strip()
    if attributes:
        sku["attributes"] = attributes
    return sku


def _product(row: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": (row.get("kind") or "").strip(), "name": row.get("name"),
                            "description": row.get("description") or "",
                            "category": (row.get("category") or "").strip() or None,
                            "tags": _list(row.get("tags")),
                            "status": (row.get("status") or "").strip() or None,
                            "purchase_limit": _int(row, "purchase_limit"),
                            "real_name": (row.get("real_name") or "").strip().lower() in ("true", "yes", "1"),
                            "fulfillment": _list(row.get("fulfillment")), "skus": []}
    return body


def _rows(reader: csv.DictReader) -> Iterator[dict[str, Any]]:  # type: ignore[type-arg]
    """The rows, a file the csv module cannot read (a cell beyond its limit, a stray quote)
    refused with the line where it stopped."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            line = reader.line_num + 1          # the line being read when it failed
            raise InvalidInput(f"line {line}: {error}", field="body", line=line) from None


def parse_catalog_csv(text: str) -> tuple[list[tuple[int, NewProduct]], list[dict[str, Any]]]:
    """Products that parsed (with their first line) and errors as {"line", "message"}; a product
    with any bad row is not imported. A file too large or without the required columns is
    InvalidInput."""
    if len(text.encode()) > MAX_BYTES:
        raise InvalidInput(f"the file is larger than {MAX_BYTES} bytes", field="body")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    try:
        columns = reader.fieldnames or []
    except csv.Error as error:
        raise InvalidInput(f"line 1: {error}", field="body", line=1) from None
    missing = [c for c in REQUIRED if c not in columns]
    if missing:  # not a catalogue at all: refused whole, rather than answered 200 with one error
        raise InvalidInput(f"the first line must name the columns; missing: {', '.join(missing)}", field="body")
    groups: dict[str, dict[str, Any]] = {}
    errors: list[dict[str, Any]] = []
    for row in _rows(reader):
        line = reader.line_num
        if line > MAX_ROWS + 1:
            errors.append({"line": line, "message": f"at most {MAX_ROWS} rows per file"})
            break
        key = (row.get("product") or "").strip()
        if not key:
            errors.append({"line": line, "message": "product is required"})
            continue
        group = groups.setdefault(key, {"line": line, "lines": [], "bad": False})
        try:
            if "body" not in group:
                group["body"] = _product(row)
            group["body"]["skus"].append(_sku(row))
            group["lines"].append(line)
        except _RowError as error:
            errors.append({"line": line, "message": str(error)})
            group["bad"] = True
    products: list[tuple[int, NewProduct]] = []
    for group in groups.values():
        if group["bad"] or "body" not in group:
            continue
        if len(group["body"]["skus"]) > MAX_SKUS_PER_REQUEST:
            errors.append({"line": group["line"], "message": f"at most {MAX_SKUS_PER_REQUEST} SKUs per product"})
            continue
        try:
            products.append((group["line"], parse_new_product(group["body"])))
        except DomainError as error:
            field = str(error.details.get("field", ""))
            line = group["line"]
            if field.startswith("skus["):
                line = group["lines"][int(field[5:field.index("]")])]
            errors.append({"line": line, "message": error.message})
    return products, errors

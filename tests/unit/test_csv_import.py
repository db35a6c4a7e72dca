from __future__ import annotations

import pytest

from chalicelib.domain.csv_import import parse_catalog_csv
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.model import Kind

HEADER = "product,kind,name,category,tags,status,sku_name,price,stock,session_start,session_end,fulfillment,attributes\n"


def test_rows_group_into_products_and_bad_products_are_reported_by_line() -> None:
    text = HEADER + (
        "hall,ticket,Great Hall,museum,a|b,listed,Morning,6000,100,2026-12-01T09:00:00+08:00,2026-12-01T12:00:00+08:00,,\n"
        "hall,ticket,Great Hall,museum,a|b,listed,Afternoon,6000,100,2026-12-01T13:00:00+08:00,2026-12-01T17:00:00+08:00,,\n"
        "tote,merch,Tote,souvenir,,listed,M,8800,20,,,pickup|shipping,size=M\n"
        "bad,merch,Broken,souvenir,,listed,M,12.50,20,,,pickup,\n"
        "late,ticket,No session,museum,,listed,Adult,100,5,,,,\n")
    products, errors = parse_catalog_csv(text)
    assert [(line, p.name, len(p.skus)) for line, p in products] == [(2, "Great Hall", 2), (4, "Tote", 1)]
    assert products[0][1].kind is Kind.TICKET and products[0][1].tags == ["a", "b"]
    assert products[1][1].skus[0].attributes == {"size": "M"}
    assert [e["line"] for e in errors] == [5, 6]
    assert "whole number" in errors[0]["message"]


def test_a_file_without_the_columns_is_refused_whole() -> None:
    with pytest.raises(InvalidInput, match="missing: product, kind"):
        parse_catalog_csv("name,price\nx,1\n")
    with pytest.raises(InvalidInput, match="larger than"):
        parse_catalog_csv("product,kind,name,sku_name,price\n" + "x,merch,Mug,Blue,100\n" * 200_000)


def test_a_cell_the_csv_reader_cannot_take_is_refused_with_its_line() -> None:
    """A cell beyond the csv module's limit (128 KB) was a 500: it is a 400 naming the line."""
    huge = "x" * 140_000
    with pytest.raises(InvalidInput) as refused:
        parse_catalog_csv(HEADER + f"hall,ticket,{huge},museum,,listed,M,6000,1,,,,\n")
    assert refused.value.details["line"] == 2 and "line 2" in refused.value.message
    with pytest.raises(InvalidInput) as refused:
        parse_catalog_csv(f"product,kind,name,sku_name,price,{huge}\n")
    assert refused.value.details["line"] == 1

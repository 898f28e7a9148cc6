"""Exports of every table to .csv and .xlsx: the same rows as the page, the filters applied,
no caller's phone number."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.test import Client

from tests.support.dashboard_day import DAY, PHONE, UNITS, build

pytestmark = pytest.mark.django_db

URL = "/command/stats/"
TABLES = ("category", "staging_points", "units")


def table_json(client: Client, table: str, **params: Any) -> dict[str, Any]:
    body = client.get(URL, {"format": "json", "start": DAY, "end": DAY, **params}).json()
    result: dict[str, Any] = body["tables"][table]
    return result


def export(client: Client, fmt: str, table: str, **params: Any) -> bytes:
    response = client.get(URL, {"format": fmt, "table": table, "start": DAY, "end": DAY, **params})
    assert response.status_code == 200, response.getvalue()
    assert response["Content-Disposition"].startswith(f'attachment; filename="{table}_20260302')
    # Streamed (CSV) or sent from a file (.xlsx): read through, as a browser does.
    body: bytes = response.getvalue()
    return body


def as_text(value: Any) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("table", TABLES)
def test_csv_export_is_the_table(commander: Client, frozen: None, table: str) -> None:
    build()
    expected = table_json(commander, table)
    content = export(commander, "csv", table)
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0] == expected["columns"]
    assert rows[1:] == [[as_text(v) for v in row] for row in expected["rows"]]
    assert len(rows) > 2


@pytest.mark.parametrize("table", TABLES)
def test_xlsx_export_is_the_table(commander: Client, frozen: None, table: str) -> None:
    build()
    expected = table_json(commander, table)
    book = openpyxl.load_workbook(io.BytesIO(export(commander, "xlsx", table)))
    sheet = book.active
    assert sheet is not None
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == expected["columns"]
    # Empty text cells come back as None from a spreadsheet.
    assert rows[1:] == [[None if v == "" else v for v in row] for row in expected["rows"]]


def test_exports_respect_the_filters(commander: Client, frozen: None) -> None:
    city = build()
    content = export(commander, "csv", "units", unit=city.units[0].pk)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["U0"]
    assert rows[1][2] == str(UNITS["U0"][0])


@pytest.mark.parametrize("table", TABLES)
def test_no_caller_phone_number_in_any_export(commander: Client, frozen: None, table: str) -> None:
    build()
    assert PHONE.encode() not in export(commander, "csv", table)
    with zipfile.ZipFile(io.BytesIO(export(commander, "xlsx", table))) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            assert PHONE.encode() not in data
            assert "张三".encode() not in data

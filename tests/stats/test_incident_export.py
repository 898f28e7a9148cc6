"""The export of a period's incidents one by one (issue 16): CSV streamed in pieces as the rows
come from the database, .xlsx from a temporary file; Chinese headers by default; bad query strings
answered 400 with a message per field; nothing personal in the file.

The calls are tests/support/dashboard_day.py's six (A–F, in that order, all at 10:00)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import openpyxl
import pytest
import time_machine
from django.http import FileResponse, StreamingHttpResponse
from django.test import Client

from apps.common.roles import Role
from apps.stats import exports, selectors
from tests.support.dashboard_day import DAY, NOW, PHONE, build
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/command/stats/"
HEADERS = [
    "警情编号",
    "接警时间",
    "警情类别",
    "优先级",
    "状态",
    "来源",
    "派出所",
    "屯警点",
    "巡逻单元",
    "到达时限（秒）",
    "接警至派警（秒）",
    "派警至签收（秒）",
    "派警至到达（秒）",
    "到达至处结（秒）",
]


@pytest.fixture
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def commander() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER]))
    return client


def export(client: Client, fmt: str, **params: Any) -> Any:
    query = {"format": fmt, "table": "incidents", "start": DAY, "end": DAY, **params}
    return client.get(URL, query)


def csv_rows(response: StreamingHttpResponse) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads the Chinese text as UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def same(value: Any) -> Any:
    """A cell as a number when it is one (a spreadsheet gives 30 for the CSV's 30.0)."""
    if value is None:
        return ""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def test_a_csv_export_of_a_period_streams_its_incidents_with_chinese_headers(
    commander: Client, frozen: None
) -> None:
    build()
    response = export(commander, "csv")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse) and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="incidents_20260302-20260302.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == HEADERS
    assert len(rows) == 7
    # A: a dispute in the priority zone (R0C0: 3-minute target), dispatched after 30 s.
    assert rows[1][1:] == [
        "2026-03-02 10:00:00",
        "纠纷",
        "2",
        "现场处结",
        "110来电（接警）",
        "西区派出所",
        "点0",
        "U0",
        "180",
        "30.0",
        "40.0",
        "170.0",
        "600.0",
    ]
    # E: cancelled before any dispatch, outside the zone: no unit, no interval.
    assert rows[5][2] == "其它" and rows[5][4] == "已撤销"
    assert rows[5][8:] == ["", "300", "", "", "", ""]
    # F: no grid cell, so no staging point (5-minute target).
    assert rows[6][7] == "" and rows[6][9] == "300"


def test_the_csv_export_is_sent_in_pieces_as_the_rows_are_read(
    commander: Client, frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    build()
    monkeypatch.setattr(exports, "CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr(selectors, "LINES_CHUNK", 2)
    pieces = list(export(commander, "csv").streaming_content)
    # The header, then three pieces of two rows.
    assert len(pieces) == 4
    assert [len(list(csv.reader(io.StringIO(p.decode("utf-8-sig"))))) for p in pieces] == [
        1,
        2,
        2,
        2,
    ]


def test_an_incident_export_applies_the_filters(commander: Client, frozen: None) -> None:
    city = build()
    rows = csv_rows(export(commander, "csv", unit=city.units[0].pk))
    assert [r[8] for r in rows[1:]] == ["U0", "U0", "U0"]  # A, B, D
    rows = csv_rows(export(commander, "csv", category="criminal"))
    assert [r[2] for r in rows[1:]] == ["刑事"]


def test_no_caller_name_phone_or_address_in_the_incident_export(
    commander: Client, frozen: None
) -> None:
    build()
    body = b"".join(export(commander, "csv").streaming_content).decode("utf-8-sig")
    for personal in (PHONE, "张三", "测试地址"):
        assert personal not in body


def test_an_xlsx_export_of_the_incidents_is_sent_from_a_file_with_the_same_rows(
    commander: Client, frozen: None
) -> None:
    build()
    as_csv = csv_rows(export(commander, "csv"))
    response = export(commander, "xlsx")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"] == (
        'attachment; filename="incidents_20260302-20260302.xlsx"'
    )
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    assert sheet is not None and sheet.title == "警情"
    rows = [[same(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert rows == [[same(v) for v in r] for r in as_csv]


def test_an_xlsx_export_longer_than_a_worksheet_is_refused_with_a_message(
    commander: Client, frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    build()
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 5)
    response = export(commander, "xlsx")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["format"]
    assert "CSV" in response.json()["errors"]["format"][0]
    assert export(commander, "csv").status_code == 200  # CSV has no such limit


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-02-30"}, "start", "有效的日期"),
        ({"start": "2026-03-05"}, "end", "结束时间早于开始时间。"),
        ({"table": "callers"}, "table", "有效"),
        ({"table": ""}, "table", "请选择要导出的表格。"),
        ({"unit": "U0"}, "unit", "有效"),
        ({"category": "riot"}, "category", "有效"),
    ],
)
def test_bad_export_queries_are_answered_400_with_a_message_per_field(
    commander: Client, frozen: None, params: dict[str, str], field: str, message: str
) -> None:
    response = export(commander, "csv", **params)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    assert message in errors[field][0]

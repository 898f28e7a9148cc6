"""counter_next and counters_next: one statement that creates or advances counter rows, gap-free
under races; notices_together numbers a transaction's notices with them."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.common.counters import counter_next, counters_next
from apps.common.models import DailySequence, Notice, NoticeCursor
from apps.common.notices import notice_publish, notices_together
from apps.common.services import sequence_next
from tests.support.concurrency import race


@pytest.mark.django_db
def test_a_counter_starts_at_one_and_counts_per_key() -> None:
    day = date(2026, 8, 28)
    assert sequence_next(name="incident", day=day) == 1
    assert sequence_next(name="incident", day=day) == 2
    assert sequence_next(name="incident", day=date(2026, 8, 29)) == 1
    assert sequence_next(name="other", day=day) == 1
    assert (
        counter_next(DailySequence, key={"name": "incident", "day": day}, field="last", step=5) == 7
    )
    assert DailySequence.objects.get(name="incident", day=day).last == 7


@pytest.mark.django_db
def test_a_rolled_back_transaction_takes_its_number_back() -> None:
    notice_publish(audience="unit:1", type="t", payload={})
    with pytest.raises(RuntimeError), transaction.atomic():
        notice_publish(audience="unit:1", type="t", payload={})
        raise RuntimeError
    assert notice_publish(audience="unit:1", type="t", payload={}).seq == 2
    assert NoticeCursor.objects.get(audience="unit:1").last_seq == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers")
def test_racing_writers_get_every_number_once() -> None:
    """Twelve threads, one new counter: the first insert races the others' upserts."""

    def writer(_: int) -> list[int]:
        got = []
        for _ in range(10):
            with transaction.atomic():
                got.append(sequence_next(name="race", day=date(2026, 8, 28)))
        return got

    got = [n for numbers in race(12, writer) for n in numbers]
    assert sorted(got) == list(range(1, 121))


@pytest.mark.django_db
def test_several_counters_advance_in_one_statement_each_by_its_step() -> None:
    notice_publish(audience="unit:3", type="t", payload={})
    with CaptureQueriesContext(connection) as ctx:
        got = counters_next(
            NoticeCursor, key="audience", field="last_seq", steps={"unit:3": 2, "command": 3}
        )
    assert len(ctx.captured_queries) == 1
    assert got == {"unit:3": 3, "command": 3}
    assert dict(NoticeCursor.objects.values_list("audience", "last_seq")) == got
    assert counters_next(NoticeCursor, key="audience", field="last_seq", steps={}) == {}


def _publish_together(told: list[tuple[str, str]]) -> dict[str, list[tuple[int, str]]]:
    with transaction.atomic(), notices_together():
        notices = [notice_publish(audience=a, type=t, payload={}) for a, t in told]
    seen: dict[str, list[tuple[int, str]]] = {}
    for n in notices:
        seen.setdefault(n.audience, []).append((n.seq, n.type))
    return seen


@pytest.mark.django_db
def test_notices_told_together_are_numbered_per_audience_in_the_order_told(
    django_capture_on_commit_callbacks: Any,
) -> None:
    notice_publish(audience="command", type="before", payload={})
    told = [("unit:12", "a"), ("command", "b"), ("unit:2", "c"), ("unit:12", "d"), ("command", "e")]
    with django_capture_on_commit_callbacks() as pushes, CaptureQueriesContext(connection) as ctx:
        seen = _publish_together(told)
    assert seen == {
        "unit:12": [(1, "a"), (2, "d")],
        "command": [(2, "b"), (3, "e")],
        "unit:2": [(1, "c")],
    }
    written = [q["sql"] for q in ctx.captured_queries if "common_notice" in q["sql"]]
    assert len(written) == 2, written  # the three cursors in one statement, the five rows in one
    # Units by id, then the command centre: the order every transaction takes the cursors in.
    assert (
        written[0].index("'unit:2'") < written[0].index("'unit:12'") < written[0].index("'command'")
    )
    assert len(pushes) == 1  # one hop to the event loop after commit, for all five
    stored = Notice.objects.filter(type__in="abcde").order_by("type")
    assert [(n.audience, n.seq) for n in stored] == [
        ("unit:12", 1),
        ("command", 2),
        ("unit:2", 1),
        ("unit:12", 2),
        ("command", 3),
    ]


@pytest.mark.django_db
def test_a_notice_wanted_at_once_is_numbered_after_its_audiences_earlier_ones() -> None:
    """The dispatch alert's number goes on its Alert row, so it is numbered when published;
    what its audience was told before in the block is numbered with it, first (a diverted
    unit: its old incident withdrawn, then the new alert). Other audiences, and a nested
    block's notices, wait for the outer block's end."""
    with transaction.atomic(), notices_together():
        withdrawn = notice_publish(audience="unit:1", type="withdrawn", payload={})
        with notices_together():
            command = notice_publish(audience="command", type="updated", payload={})
            other = notice_publish(audience="unit:2", type="updated", payload={})
        alert = notice_publish(audience="unit:1", type="alert", payload={}, at_once=True)
        assert (withdrawn.seq, alert.seq) == (1, 2)
        assert (command.seq, other.seq) == (0, 0)
        after = notice_publish(audience="unit:1", type="after", payload={})
    assert (command.seq, other.seq, after.seq) == (1, 1, 3)
    assert list(Notice.objects.order_by("pk").values_list("audience", "seq", "type")) == [
        ("unit:1", 1, "withdrawn"),
        ("unit:1", 2, "alert"),
        ("command", 1, "updated"),
        ("unit:2", 1, "updated"),
        ("unit:1", 3, "after"),
    ]


@pytest.mark.django_db
def test_a_rolled_back_block_writes_and_pushes_nothing(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        django_capture_on_commit_callbacks() as pushes,
        pytest.raises(RuntimeError),
        transaction.atomic(),
        notices_together(),
    ):
        notice_publish(audience="command", type="t", payload={})
        raise RuntimeError
    assert pushes == [] and not Notice.objects.exists() and not NoticeCursor.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises writers")
def test_transactions_telling_the_same_audiences_in_any_order_neither_deadlock_nor_skip() -> None:
    """Eight threads tell three audiences in shuffled orders: the cursors are taken in one
    order (taken in the order told, two of them would wait on each other)."""
    audiences = ["command", "unit:7", "unit:10"]

    def writer(i: int) -> list[tuple[str, int]]:
        rng = random.Random(i)
        got = []
        for _ in range(10):
            told = [(a, "t") for a in audiences for _ in range(rng.randint(1, 2))]
            rng.shuffle(told)
            for audience, numbered in _publish_together(told).items():
                got += [(audience, seq) for seq, _ in numbered]
        return got

    got = [pair for pairs in race(8, writer) for pair in pairs]
    for audience in audiences:
        seqs = sorted(seq for a, seq in got if a == audience)
        assert seqs == list(range(1, len(seqs) + 1))
        assert NoticeCursor.objects.get(audience=audience).last_seq == len(seqs)

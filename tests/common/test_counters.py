"""counter_next: one statement that creates or advances a counter row, gap-free under races."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection, transaction

from apps.common.counters import counter_next
from apps.common.models import DailySequence, NoticeCursor
from apps.common.notices import notice_publish
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

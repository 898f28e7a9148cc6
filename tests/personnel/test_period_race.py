"""Closing a period while score edits are in flight: every edit either lands before the close
(and is in the frozen totals) or is refused; none slips in after it."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, connections

from apps.personnel.models import Assessment, AssessmentScore, PeriodStatus
from apps.personnel.services import (
    PeriodClosed,
    assessment_set_scores,
    assessment_start,
    period_close,
    period_open,
)
from tests.support.factories import PersonFactory

WRITERS = 12

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="a real race needs concurrent connections; SQLite serialises every writer",
    ),
]


def test_a_close_racing_score_edits_freezes_exactly_the_edits_before_it() -> None:
    period = period_open(month=date(2026, 3, 1))
    assessments = [assessment_start(period=period, person=PersonFactory()) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS + 1)
    outcomes: dict[int, str] = {}
    lock = threading.Lock()

    def write(assessment: Assessment) -> None:
        try:
            barrier.wait(timeout=30)
            try:
                assessment_set_scores(assessment=assessment, scores={"discipline": Decimal(80)})
                result = "ok"
            except PeriodClosed:
                result = "refused"
            with lock:
                outcomes[assessment.pk] = result
        finally:
            connections.close_all()

    def close() -> None:
        try:
            barrier.wait(timeout=30)
            period_close(period=period, actor=None)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(a,)) for a in assessments]
    threads.append(threading.Thread(target=close))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    period.refresh_from_db()
    assert period.status == PeriodStatus.CLOSED
    assert len(outcomes) == WRITERS
    for a in Assessment.objects.filter(period=period):
        has_score = AssessmentScore.objects.filter(assessment=a).exists()
        assert has_score == (outcomes[a.pk] == "ok")
        # The frozen total covers exactly the scores that landed.
        assert (a.total is not None) == has_score

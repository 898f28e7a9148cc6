"""Loading the demo city into an empty database, twice (no module fixture here)."""

from __future__ import annotations

import pytest

from apps.demo.city import load_demo_city
from apps.personnel.models import Assignment, Person
from apps.units.models import GridCell, StagingPoint, Station, Unit

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    models = (Station, StagingPoint, GridCell, Unit, Person, Assignment)
    return {m.__name__: m.objects.count() for m in models}


def test_an_empty_database_gets_the_whole_city_and_a_second_run_adds_nothing() -> None:
    assert counts() == dict.fromkeys(counts(), 0)
    first = load_demo_city(password="pw", history=False)
    assert first.created > 0
    after_first = counts()
    assert after_first["StagingPoint"] == 8 and after_first["Person"] == 239
    second = load_demo_city(password="pw", history=False)
    assert second.created == 0
    assert counts() == after_first

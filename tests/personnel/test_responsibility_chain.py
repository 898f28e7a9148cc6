"""The responsibility chain: listing upward, and refusing cycles."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.personnel.models import Person
from apps.personnel.selectors import subordinate_ids, supervisor_chain
from apps.personnel.services import person_set_supervisor
from tests.support.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db


def chain() -> tuple[Person, Person, Person, Person]:
    leader = PersonFactory(name="领导")
    officer = PersonFactory(name="分管民警", supervisor=leader)
    squad = PersonFactory(name="分队长", supervisor=officer)
    member = PersonFactory(name="队员", supervisor=squad)
    return leader, officer, squad, member


def test_a_persons_supervisor_chain_lists_upward_to_the_leadership() -> None:
    leader, officer, squad, member = chain()
    assert [p.name for p in supervisor_chain(member)] == ["分队长", "分管民警", "领导"]
    assert supervisor_chain(leader) == []
    assert subordinate_ids(officer) == {squad.pk, member.pk}


def test_setting_a_supervisor_below_oneself_is_refused() -> None:
    leader, _officer, squad, member = chain()
    with pytest.raises(ValidationError) as exc:
        person_set_supervisor(person=leader, supervisor=member)
    assert "supervisor" in exc.value.message_dict
    leader.refresh_from_db()
    assert leader.supervisor is None
    with pytest.raises(ValidationError):
        person_set_supervisor(person=squad, supervisor=squad)


def test_the_chain_listing_stops_at_a_cycle_written_behind_the_services_back() -> None:
    a = PersonFactory()
    b = PersonFactory(supervisor=a)
    Person.objects.filter(pk=a.pk).update(supervisor=b)
    a.refresh_from_db()
    assert supervisor_chain(a) == [b]
    assert subordinate_ids(a) == {b.pk}


def test_moving_a_person_under_a_new_supervisor() -> None:
    leader, _officer, _squad, member = chain()
    other = PersonFactory(supervisor=leader)
    person_set_supervisor(person=member, supervisor=other)
    member.refresh_from_db()
    assert member.supervisor == other


def test_the_admin_form_refuses_a_supervisor_cycle() -> None:
    from django.test import Client
    from django.urls import reverse

    from apps.common.roles import Role

    leader, _officer, _squad, member = chain()
    client = Client()
    client.force_login(UserFactory(roles=[Role.HR], is_staff=True))
    response = client.post(
        reverse("admin:personnel_person_change", args=[leader.pk]),
        {
            "kind": leader.kind,
            "name": leader.name,
            "staff_number": leader.staff_number,
            "status": leader.status,
            "supervisor": member.pk,
            "assignments-TOTAL_FORMS": "0",
            "assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.errors
    leader.refresh_from_db()
    assert leader.supervisor is None

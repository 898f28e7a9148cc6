"""The admin's timelines in Chinese: an incident's timeline and an event's own page name events
and states by their labels, give times to the second and fold the 64-character hashes away; the
event list filters by label. The admin's "view site" (查看站点) leads to each role's screen."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from apps.common.roles import Role
from apps.incidents.models import Event
from tests.support.factories import UserFactory, World, advance, new_incident

pytestmark = pytest.mark.django_db

TO_THE_SECOND = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def commander() -> Client:
    client = Client()
    client.force_login(UserFactory(roles=[Role.COMMANDER], is_staff=True))
    return client


def text_of(html: str) -> str:
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_incident_timeline_shows_labels_seconds_and_a_folded_hash(world: World) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    html = (
        commander()
        .get(reverse("admin:incidents_incident_change", args=[incident.pk]))
        .content.decode()
    )
    timeline = text_of(html[html.index('id="events-group"') :])
    assert "接警" in timeline and "派警" in timeline and "签收指令" in timeline
    assert "已派警 → 已签收" in timeline
    assert len(TO_THE_SECOND.findall(timeline)) >= 3
    for event in Event.objects.filter(incident=incident, stream="incident"):
        assert f"{event.hash[:10]}…" in timeline
        assert event.hash not in html
    # The rows are named in Chinese too, not "incident:1#1".
    assert f"incident:{incident.pk}#" not in timeline
    assert f"警情 {incident.pk} #1 接警" in timeline


def test_an_event_page_shows_labels_and_seconds_with_the_hashes_folded(world: World) -> None:
    incident = advance(world, new_incident(world), "acknowledged")
    event = Event.objects.get(incident=incident, stream="incident", kind="acknowledge")
    html = (
        commander().get(reverse("admin:incidents_event_change", args=[event.pk])).content.decode()
    )
    content = html[html.index('id="content"') :]
    text = text_of(content)
    assert "签收指令" in text and "已派警 → 已签收" in text
    assert TO_THE_SECOND.search(text)
    for code in ("acknowledge", "dispatched", "acknowledged"):
        assert f" {code} " not in text, code
    # Both hashes only inside the folded block.
    fold_start, fold_end = content.index("<details>"), content.index("</details>")
    for value in (event.hash, event.prev_hash):
        assert fold_start < content.index(value) < fold_end
        assert content.count(value) == 1


def test_the_event_list_filters_by_label(world: World) -> None:
    advance(world, new_incident(world), "dispatched")
    client = commander()
    html = client.get(reverse("admin:incidents_event_changelist")).content.decode()
    filters = text_of(html[html.index('id="changelist-filter"') :])
    assert "签收指令" in filters and "现场处结" in filters
    assert " acknowledge " not in filters
    only = client.get(reverse("admin:incidents_event_changelist"), {"kind": "dispatched"})
    assert {e.kind for e in only.context["cl"].result_list} == {"dispatched"}


@pytest.mark.parametrize(
    ("roles", "where"),
    [([Role.HR], "/admin/"), ([Role.DISPATCHER], "/command/"), ([Role.COMMANDER], "/command/")],
)
def test_view_site_leads_to_a_real_page(roles: list[Role], where: str) -> None:
    client = Client()
    client.force_login(UserFactory(roles=roles, is_staff=True))
    index = client.get(reverse("admin:index"))
    assert index.context["site_url"] == "/"
    assert '<a href="/">查看站点</a>' in index.content.decode()
    landing = client.get("/", follow=True)
    assert landing.redirect_chain[-1][0] == where
    assert landing.status_code == 200

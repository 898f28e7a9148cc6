"""Photos of an incident (续报) through the HTTP API: kept without their metadata, thumbnailed,
refused whole when too large or not a photo, read only by those who may read the incident."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from apps.common.models import Notice
from apps.common.notices import COMMAND, unit_audience
from apps.field.models import Attachment
from apps.incidents import services
from apps.incidents.models import Event
from tests.support.factories import World, advance, new_incident

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
MAKE = 0x010F


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def jpeg_with_gps(size: tuple[int, int] = (640, 480)) -> bytes:
    """A phone's photo: EXIF with the camera's make and the GPS position of the scene."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[MAKE] = "HUAWEI-P60"
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (22.0, 46.0, 48.0), 3: "E", 4: (100.0, 57.0, 3.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["attachments"]["OPTIONS"]["location"])
    return [Path(d) / f for d, _, files in os.walk(root) for f in files]


def upload(client: APIClient, incident_id: int, content: bytes, name: str = "p.jpg") -> Any:
    return client.post(
        f"/api/incidents/{incident_id}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="image/jpeg"), "caption": "现场"},
        format="multipart",
    )


def test_a_photo_is_kept_without_its_exif_and_gps_and_with_a_thumbnail(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the phone's GPS is in
    before = set(stored_files())
    answer = upload(api(world.auxiliary), incident.pk, original)
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["width"], body["height"], body["content_type"]) == (640, 480, "image/jpeg")
    assert body["unit"] == world.unit.pk and body["caption"] == "现场"
    attachment = Attachment.objects.get()
    assert len(set(stored_files()) - before) == 2  # the photo and its thumbnail
    photo = api(world.auxiliary).get(body["url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert "no-store" in photo["Cache-Control"] or "no-cache" in photo["Cache-Control"]
    kept = b"".join(photo.streaming_content)
    assert b"HUAWEI" not in kept and b"Exif" not in kept
    kept_image = Image.open(io.BytesIO(kept))
    assert not kept_image.getexif() and kept_image.size == (640, 480)
    assert len(kept) == attachment.size_bytes
    thumb = api(world.dispatcher).get(body["thumbnail_url"])
    thumb_image = Image.open(io.BytesIO(b"".join(thumb.streaming_content)))
    assert max(thumb_image.size) == settings.ATTACHMENT_THUMBNAIL_PX
    event = Event.objects.filter(incident=incident, kind="photo").get()
    assert event.payload["attachment"] == attachment.pk
    # Announced to the command centre and the crew on the incident.
    for audience in (COMMAND, unit_audience(world.unit.pk)):
        last = Notice.objects.filter(audience=audience).order_by("-seq").first()
        assert last is not None and last.payload["kind"] == "photo"
    listed = api(world.dispatcher).get(f"/api/incidents/{incident.pk}/attachments/").json()
    assert [row["id"] for row in listed] == [attachment.pk]


def test_a_portrait_photo_is_turned_upright_by_its_orientation(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    image = Image.new("RGB", (400, 300), "blue")
    exif = Image.Exif()
    exif[0x0112] = 6  # taken with the phone upright: rotate 90° to show it
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    body = upload(api(world.auxiliary), incident.pk, out.getvalue()).json()
    assert (body["width"], body["height"]) == (300, 400)


def test_a_20_mb_upload_is_refused_and_nothing_is_stored(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    before = set(stored_files())
    big = b"\xff\xd8" + b"\0" * (20 * 1024 * 1024)
    answer = upload(api(world.auxiliary), incident.pk, big)
    assert answer.status_code == 413
    assert "10 MB" in answer.json()["file"][0]
    assert set(stored_files()) == before and not Attachment.objects.exists()
    assert not Event.objects.filter(kind="photo").exists()


@override_settings(ATTACHMENT_MAX_BYTES=100_000)
def test_a_file_over_the_limit_is_refused_after_parsing_too(world: World) -> None:
    # The body's declared length is within the slack; the file itself is over the limit.
    incident = advance(world, new_incident(world), "on_scene")
    answer = upload(api(world.auxiliary), incident.pk, jpeg_with_gps() + b"\0" * 120_000)
    assert answer.status_code == 400 and "file" in answer.json()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", "现场笔录".encode()),
        ("fake.jpg", b"\xff\xd8\xff\xe0 not really a jpeg"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00"),
        ("empty.jpg", b""),
    ],
)
def test_a_file_that_is_not_a_photo_is_refused_with_a_message(
    world: World, name: str, content: bytes
) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    before = set(stored_files())
    answer = upload(api(world.auxiliary), incident.pk, content, name=name)
    assert answer.status_code == 400, answer.content
    assert answer.json()["file"]
    assert set(stored_files()) == before and not Attachment.objects.exists()


def test_a_png_screenshot_stays_png(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(out, "PNG")
    body = upload(api(world.officer), incident.pk, out.getvalue(), name="s.png").json()
    assert body["content_type"] == "image/png"


def test_a_download_is_refused_to_another_stations_user_and_other_crews(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    body = upload(api(world.auxiliary), incident.pk, jpeg_with_gps()).json()
    assert api(world.station_user).get(body["url"]).status_code == 200  # the incident's station
    assert api(world.east_station_user).get(body["url"]).status_code == 404
    assert api(world.other_crew).get(body["url"]).status_code == 404
    assert api(world.hr).get(body["url"]).status_code == 403
    assert APIClient().get(body["url"]).status_code == 401
    listed = api(world.east_station_user).get(f"/api/incidents/{incident.pk}/attachments/")
    assert listed.status_code == 404


def test_only_a_crew_sent_to_the_incident_adds_a_photo(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    assert upload(api(world.other_crew), incident.pk, jpeg_with_gps()).status_code == 404
    received = new_incident(world)
    # A crew member cannot even see an incident its unit was never sent to.
    assert upload(api(world.auxiliary), received.pk, jpeg_with_gps()).status_code == 404
    assert upload(api(world.dispatcher), received.pk, jpeg_with_gps()).status_code == 201


def test_a_photo_replayed_with_its_key_is_stored_once(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    client = api(world.auxiliary)
    content = jpeg_with_gps()
    answers = [
        client.post(
            f"/api/incidents/{incident.pk}/attachments/",
            {"file": SimpleUploadedFile("p.jpg", content, content_type="image/jpeg")},
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="photo-1",
        )
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert Attachment.objects.count() == 1


def test_a_photo_queued_offline_arrives_after_the_incident_closed(world: World) -> None:
    incident = advance(world, new_incident(world), "on_scene")
    services.incident_resolve(incident=incident, summary="已调解", actor=world.auxiliary)
    answer = upload(api(world.auxiliary), incident.pk, jpeg_with_gps())
    assert answer.status_code == 201

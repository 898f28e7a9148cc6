"""The crews' reports: duty status (勤务状态), the emergency button (一键求助), backup
requests (请求增援) and photos (续报). Each runs in one transaction with its row locked (the
unit, or the incident then nothing else), writes its timeline event, and publishes after commit.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.common.errors import IllegalTransition, UnitBusy
from apps.common.notices import notices_together
from apps.common.push import after_commit
from apps.common.roles import Role, has_role, is_command_centre
from apps.common.tasks import sms_send
from apps.incidents.models import (
    OPEN_STATUSES,
    Category,
    Incident,
    StreamKind,
)
from apps.incidents.notify import notify_incident
from apps.incidents.selectors import working_assignments
from apps.incidents.services import field_time, incident_create
from apps.incidents.timeline import event_append
from apps.personnel.selectors import commander_phones
from apps.units.models import UNIT_BUSY_STATUSES, Unit, UnitStatus
from apps.units.notify import notify_unit_status
from apps.units.selectors import Recommendation, is_crew

from .images import photo_clean
from .models import Attachment, Emergency
from .notify import notify_backup_requested, notify_emergency, notify_emergency_acknowledged
from .selectors import nearest_free, unit_sent_crewed_by

Actor = User | AnonymousUser

# What a crew or the command centre may set; `at_post` is the same as `available` (at the
# staging point, free).
DUTY_STATUSES: dict[str, UnitStatus] = {
    "available": UnitStatus.AVAILABLE,
    "at_post": UnitStatus.AVAILABLE,
    "patrolling": UnitStatus.PATROLLING,
    "out_of_service": UnitStatus.OUT_OF_SERVICE,
}


def _user(actor: Actor) -> User | None:
    return actor if isinstance(actor, User) else None


def _require_crew_or_command(actor: Actor, unit: Unit) -> None:
    if not is_command_centre(actor) and not is_crew(actor, unit):
        raise PermissionDenied(_("Only this unit's crew, or the command centre, may do this."))


def unit_duty_set(*, unit: Unit, status: str, actor: Actor, reason: str = "") -> Unit:
    """Set a unit's duty status (at post, patrolling, out of service). Refused (409) while the
    unit works an incident: then its status follows the incident. Out of service needs a reason
    (breakdown, meal, refuelling). Locks the unit."""
    _require_crew_or_command(actor, unit)
    target = DUTY_STATUSES.get(status)
    if target is None:
        raise ValidationError({"status": [_("Unknown duty status.")]})
    reason = reason.strip()
    if target == UnitStatus.OUT_OF_SERVICE and not reason:
        raise ValidationError({"reason": [_("Say why the unit is out of service.")]})
    with transaction.atomic(), notices_together():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        if locked.current_incident_id or locked.status in UNIT_BUSY_STATUSES:
            raise UnitBusy(
                _("Unit %(unit)s works an incident: its status follows the incident.")
                % {"unit": locked.callsign},
                unit_status=locked.status,
            )
        if locked.status == target:
            return locked
        now = timezone.now()
        previous = locked.status
        locked.status = target
        locked.status_changed_at = now
        locked.save(update_fields=["status", "status_changed_at"])
        event_append(
            stream=StreamKind.UNIT,
            stream_id=locked.pk,
            kind="duty_status",
            at=now,
            actor=_user(actor),
            unit=locked,
            from_state=previous,
            to_state=target,
            reason=reason[:200],
        )
        notify_unit_status(locked)
    return locked


def unit_emergency_raise(
    *,
    unit: Unit,
    actor: Actor,
    lat: float | None = None,
    lon: float | None = None,
    accuracy_m: float | None = None,
    occurred_at: datetime | None = None,
    note: str = "",
) -> Emergency:
    """The emergency button: the highest-priority notice to the command centre with the unit's
    position and the nearest free units, and texts to the commanders. Its crew only. A second
    press while one is open updates it (position, count) and sounds again. Locks the unit."""
    if not is_crew(actor, unit):
        raise PermissionDenied(_("Only the unit's crew may raise its emergency."))
    if (lat is None) != (lon is None):
        raise ValidationError({"location": [_("Give both latitude and longitude.")]})
    now = timezone.now()
    at = field_time(occurred_at, previous=None, now=now)
    with transaction.atomic(), notices_together():
        locked = Unit.objects.select_for_update().get(pk=unit.pk)
        if lat is None and locked.lat is not None:
            # No fix with the press (no GPS indoors): the unit's latest known position.
            lat, lon, accuracy_m = locked.lat, locked.lon, locked.position_accuracy_m
        emergency = Emergency.objects.filter(unit=locked, acknowledged_at__isnull=True).first()
        if emergency is None:
            emergency = Emergency.objects.create(
                unit=locked,
                raised_by=_user(actor),
                raised_at=at,
                received_at=now,
                lat=lat,
                lon=lon,
                accuracy_m=accuracy_m,
                note=note.strip()[:200],
                incident_id=locked.current_incident_id,
            )
            first = True
        else:
            emergency.presses += 1
            if lat is not None:
                # A press without any fix keeps the position of the earlier one.
                emergency.lat, emergency.lon, emergency.accuracy_m = lat, lon, accuracy_m
            lat, lon = emergency.lat, emergency.lon
            emergency.save(update_fields=["presses", "lat", "lon", "accuracy_m"])
            first = False
        event_append(
            stream=StreamKind.UNIT,
            stream_id=locked.pk,
            kind="emergency",
            at=at,
            actor=_user(actor),
            unit=locked,
            from_state=locked.status,
            to_state=locked.status,
            reason=emergency.note,
            payload={
                "emergency": emergency.pk,
                "lat": lat,
                "lon": lon,
                "accuracy_m": accuracy_m,
                "press": emergency.presses,
            },
        )
        ranked = nearest_free(lat, lon, exclude={locked.pk})
        notify_emergency(emergency, ranked)
        if first:
            _text_commanders(emergency, locked)
    return emergency


def _text_commanders(emergency: Emergency, unit: Unit) -> None:
    where = (
        f"{emergency.lat:.5f},{emergency.lon:.5f}"
        if emergency.lat is not None and emergency.lon is not None
        else _("position unknown")
    )
    text = _(
        "[110] EMERGENCY: unit %(unit)s pressed the emergency button at %(time)s (%(where)s)."
    ) % {
        "unit": unit.callsign,
        "time": timezone.localtime(emergency.raised_at).strftime("%H:%M:%S"),
        "where": where,
    }
    for phone in commander_phones():
        after_commit(partial(sms_send.delay, phone, text))


def unit_emergency_acknowledge(*, emergency: Emergency, actor: Actor) -> Emergency:
    """A commander takes charge of an emergency: it stops sounding on every command map and the
    crew's phone shows it was seen. Commanders only; idempotent. Locks the emergency."""
    if not (actor.is_superuser or has_role(actor, Role.COMMANDER)):
        raise PermissionDenied(_("Only a commander acknowledges an emergency."))
    with transaction.atomic(), notices_together():
        locked = (
            Emergency.objects.select_for_update(of=("self",))
            .select_related("unit")
            .get(pk=emergency.pk)
        )
        if locked.acknowledged_at is not None:
            return locked
        now = timezone.now()
        locked.acknowledged_at = now
        locked.acknowledged_by = _user(actor)
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        event_append(
            stream=StreamKind.UNIT,
            stream_id=locked.unit_id,
            kind="emergency_acknowledged",
            at=now,
            actor=_user(actor),
            unit=locked.unit,
            payload={"emergency": locked.pk},
        )
        notify_emergency_acknowledged(locked, by=actor.get_username())
    return locked


def incident_backup_request(
    *, incident: Incident, actor: Actor, count: int, reason: str
) -> list[Recommendation]:
    """The crew on an incident asks for backup (请求增援): a timeline event and an alert to the
    command centre with the nearest free units ranked, which the dispatcher sends with one click
    (POST …/dispatch/ adds each as a backup). By the crew of a unit working the incident (or the
    command centre noting a radio request). Locks the incident."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("This field is required.")]})
    if not 1 <= count <= 10:
        raise ValidationError({"count": [_("Ask for 1 to 10 units.")]})
    with transaction.atomic(), notices_together():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        working = working_assignments(locked)
        own = next((a for a in working if is_crew(actor, a.unit)), None)
        if own is None and not is_command_centre(actor):
            raise PermissionDenied(
                _("Only the crew of a unit working this incident may ask for backup.")
            )
        if not working:
            raise IllegalTransition(
                _("No unit works this incident: dispatch one first."),
                current_status=locked.status,
            )
        now = timezone.now()
        asking = own.unit if own is not None else None
        event_append(
            stream=StreamKind.INCIDENT,
            stream_id=locked.pk,
            kind="backup_requested",
            at=now,
            actor=_user(actor),
            incident=locked,
            unit=asking,
            from_state=locked.status,
            to_state=locked.status,
            reason=reason[:1000],
            payload={"count": count, "unit": asking.pk if asking else None},
        )
        ranked = nearest_free(
            locked.lat, locked.lon, exclude={a.unit_id for a in working}, want=count
        )
        notify_backup_requested(
            locked,
            unit_id=asking.pk if asking else None,
            callsign=asking.callsign if asking else "",
            count=count,
            reason=reason[:1000],
            at=now.isoformat(),
            ranked=ranked,
        )
    return ranked


# --- photos (续报) --------------------------------------------------------------------------------


def attachment_add(
    *,
    incident: Incident,
    actor: Actor,
    upload: UploadedFile,
    occurred_at: datetime | None = None,
    caption: str = "",
) -> Attachment:
    """A photo of the incident from a crew sent to it (or the command centre): checked and
    re-encoded without its metadata (images.photo_clean), stored with a thumbnail in the
    attachments storage, recorded on the timeline and announced to everyone following the
    incident. A photo queued offline may arrive after the incident closed: it is taken up to
    ATTACHMENT_LATE_H hours after. Nothing is stored for a refused file. Locks the incident."""
    if upload.size is not None and upload.size > int(settings.ATTACHMENT_MAX_BYTES):
        raise ValidationError(
            {
                "file": [
                    _("The photo is larger than %(mb)d MB.")
                    % {"mb": int(settings.ATTACHMENT_MAX_BYTES) // (1024 * 1024)}
                ]
            }
        )
    sent = unit_sent_crewed_by(actor, incident)
    if sent is None and not is_command_centre(actor):
        raise PermissionDenied(_("Only the crew of a unit sent to this incident may add a photo."))
    unit = sent.unit if sent is not None else None
    now = timezone.now()
    late = timedelta(hours=float(settings.ATTACHMENT_LATE_H))
    if incident.closed_at is not None and now - incident.closed_at > late:
        raise IllegalTransition(
            _("The incident closed more than %(h)d hours ago: photos are no longer added.")
            % {"h": int(settings.ATTACHMENT_LATE_H)},
            current_status=incident.status,
        )
    taken = field_time(occurred_at, previous=None, now=now)
    photo = photo_clean(upload)
    storage = storages["attachments"]
    stem = f"{timezone.localtime(now):%Y/%m}/{incident.pk}/{uuid.uuid4().hex}"
    written: list[str] = []
    try:
        written.append(storage.save(f"{stem}.{photo.extension}", ContentFile(photo.content)))
        written.append(storage.save(f"{stem}.thumb.jpg", ContentFile(photo.thumbnail)))
        with transaction.atomic(), notices_together():
            locked = Incident.objects.select_for_update().get(pk=incident.pk)
            attachment = Attachment.objects.create(
                incident=locked,
                unit=unit,
                uploaded_by=_user(actor),
                taken_at=taken,
                received_at=now,
                file=written[0],
                thumbnail=written[1],
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size_bytes=len(photo.content),
                sha256=hashlib.sha256(photo.content).hexdigest(),
                caption=caption.strip()[:200],
            )
            event_append(
                stream=StreamKind.INCIDENT,
                stream_id=locked.pk,
                kind="photo",
                at=taken,
                actor=_user(actor),
                incident=locked,
                unit=unit,
                from_state=locked.status,
                to_state=locked.status,
                reason=attachment.caption,
                payload={"attachment": attachment.pk, "sha256": attachment.sha256},
            )
            notify_incident(
                locked,
                from_status=locked.status,
                kind="photo",
                unit_ids=tuple(sorted(a.unit_id for a in working_assignments(locked))),
            )
    except BaseException:
        # Refused or failed after the files were written: nothing of it is kept.
        for name in written:
            storage.delete(name)
        raise
    return attachment


def emergency_incident_open(*, emergency: Emergency, actor: Actor) -> Incident:
    """Help for a crew in trouble that was on no incident (or whose incident is over): an
    incident at the emergency's position, priority 1 (紧急), which the dispatcher then sends the
    nearest units to. Idempotent: an emergency whose incident is still open keeps it. The
    emergency's frame goes out again naming the incident, so every command map can dispatch.
    The command centre only. Locks the emergency."""
    if not is_command_centre(actor):
        raise PermissionDenied(_("Only the command centre opens an incident."))
    with transaction.atomic(), notices_together():
        locked = (
            Emergency.objects.select_for_update(of=("self",))
            .select_related("unit", "incident")
            .get(pk=emergency.pk)
        )
        if locked.incident is not None and locked.incident.status in OPEN_STATUSES:
            return locked.incident
        if locked.lat is None or locked.lon is None:
            raise ValidationError(
                {"location": [_("The emergency has no position: place the incident by hand.")]}
            )
        incident = incident_create(
            category=Category.PUBLIC_ORDER,
            priority=1,
            lat=locked.lat,
            lon=locked.lon,
            address=_("Emergency of unit %(unit)s (position of the press)")
            % {"unit": locked.unit.callsign},
            description=locked.note,
            actor=actor,
        )
        locked.incident = incident
        locked.save(update_fields=["incident"])
        notify_emergency(locked, nearest_free(locked.lat, locked.lon, exclude={locked.unit_id}))
    return incident

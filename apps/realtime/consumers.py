"""Websocket consumers: /ws/unit/ for patrol crews and /ws/command/ for commanders and dispatchers.

They authenticate, join their audience's group and relay. Every frame a client can miss carries a
sequence number; the consumer guarantees that a connection receives its audience's notices in
order and without gaps: after the client's `hello` (with the last number it saw) it sends the
missed notices — or a snapshot when too many were missed — and afterwards, whenever a live push
skips numbers (the channel layer may drop messages), it reads the gap from the database first.

Client → server frames: hello {last_seq}, alert.received {alert_id}, position {lat, lon,
accuracy_m, recorded_at} (unit only), ping. Anything else gets an error frame; oversized frames and
floods close the connection. Writes go through services.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
import weakref
from typing import Any, ClassVar, NoReturn

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from apps.common.notices import COMMAND, CatchUp, group_for, unit_audience
from apps.common.parsers import JSONTooDeep, json_loads_bounded
from apps.common.roles import is_command_centre
from apps.common.services import user_group
from apps.common.ws import Batched
from apps.incidents.services import alert_receipt

from . import selectors as sel
from . import services
from .groups import groups_add, groups_discard

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_BIG = 4413
CLOSE_FLOOD = 4429

# At most this many frames per second from a client (bursts allowed up to the bucket size).
RATE_PER_S = 10.0
RATE_BURST = 40.0


# Daphne refuses to send (and to receive) a websocket message over 1 MiB; the command centre's
# snapshot of 1,000 units was 1.28 MB, so a snapshot goes out in parts below this size.
SNAPSHOT_PART_BYTES = 256 * 1024


def snapshot_frames(
    head: int, snap: dict[str, Any], budget: int = SNAPSHOT_PART_BYTES
) -> list[dict[str, Any]]:
    """A snapshot as frames of at most `budget` bytes of JSON each (an item larger than that
    goes alone).

    The first is {"type": "snapshot", "seq", "parts", <every field>} with as many items of its
    lists as fit; the rest are {"type": "snapshot.part", "seq", "part", "parts", <list>: […]}.
    A client applies every part as it applies the snapshot (items are whole units or incidents).
    """
    first: dict[str, Any] = {"type": "snapshot", "seq": head}
    lists: list[tuple[str, list[Any]]] = []
    for key, value in snap.items():
        if isinstance(value, list):
            first[key] = []
            lists.append((key, value))
        else:
            first[key] = value
    # Sizes in ASCII-escaped JSON: never less than the UTF-8 bytes sent; 64 bytes kept for the
    # part numbers added at the end.
    frames = [first]
    size = len(json.dumps(first)) + 64
    for key, items in lists:
        current = frames[-1]
        for item in items:
            item_size = len(json.dumps(item)) + 1
            if size + item_size > budget and any(current.get(k) for k, _ in lists):
                current = {"type": "snapshot.part", "seq": head, key: []}
                frames.append(current)
                size = len(json.dumps(current)) + 64
            current.setdefault(key, []).append(item)
            size += item_size
    for i, frame in enumerate(frames):
        frame["parts"] = len(frames)
        if i:
            frame["part"] = i + 1
    return frames


# The handshake's reads, each gathered over the sockets connecting at the same moment (one trip
# to the database thread and one query for all of them: apps.common.ws.Batched).
crew_units: Batched[Any, int] = Batched(sel.crew_units)
sockets_joined: Batched[services.Arrival, services.Joined] = Batched(services.sockets_joined)
catch_ups: Batched[tuple[str, int], CatchUp] = Batched(sel.catch_ups, limit=200)
live_alerts: Batched[str, bool] = Batched(sel.live_alerts)


class SequencedConsumer(AsyncWebsocketConsumer):
    # The frames a client may send: type → handler. Only these are dispatched; a type is never
    # turned into a method name (`{"type": "joined"}` used to call the internal on_joined hook).
    client_frames: ClassVar[dict[str, str]] = {"hello": "on_hello", "ping": "on_ping"}
    audience: str = ""
    user_group: str = ""
    last_sent: int = 0
    synced: bool = False
    # The audience's head read once the groups were joined, for the first hello only.
    joined_head: int | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Channels' dispatch without its hop to the database thread before every message.

        Channels 4.2+ runs close_old_connections() in the database thread before each message
        (each heartbeat, each push): with 4,000 unit sockets that was 46% of a daphne process
        (py-spy, bench/connections.py) and queued every alert push behind the database thread.
        Every database call here goes through database_sync_to_async, which closes stale
        connections itself, before and after.
        """
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.synced = False
        self.pending: list[dict[str, Any]] = []
        self.send_lock = asyncio.Lock()
        self.tokens = RATE_BURST
        self.tokens_at = time.monotonic()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
        audience = await self.resolve_audience(user)
        if audience is None:
            await self.refuse(CLOSE_FORBIDDEN)
        self.audience = audience
        self.user_group = user_group(user.pk)
        await groups_add(
            self.channel_layer, self.channel_name, [group_for(audience), self.user_group]
        )
        # Only now, with the socket in its groups, the database once more: a sign-out committed
        # since the token was looked up is seen here, a later one reaches the user's group; the
        # head read now is the exact catch-up point (any later notice is pushed to the socket).
        joined = await sockets_joined(
            services.Arrival(
                audience=audience,
                user_id=user.pk,
                token_hash=self.scope.get("token_hash", ""),
                unit_id=self.unit_id_joined(),
            )
        )
        if joined is None or not joined.authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
        self.joined_head = joined.head
        await self.accept()
        await self.on_joined(joined)

    async def refuse(self, code: int) -> NoReturn:
        """Refuse the handshake and end the consumer at once (with its channel-layer receive),
        not when the server reports the client gone."""
        await self.close(code=code)
        await self.disconnect(code)
        raise StopConsumer

    async def disconnect(self, code: int) -> None:
        if self.audience:
            await groups_discard(
                self.channel_layer, self.channel_name, [group_for(self.audience), self.user_group]
            )

    async def session_revoked(self, message: dict[str, Any]) -> None:
        """A commander signed this user out everywhere (a lost phone): close at once."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def resolve_audience(self, user: Any) -> str | None:
        raise NotImplementedError

    def unit_id_joined(self) -> int:
        """The unit whose alerts are re-sent on connect (0: none)."""
        return 0

    async def on_joined(self, joined: services.Joined) -> None:
        """Hook after accept."""

    async def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    # --- receiving ------------------------------------------------------------------------

    def _allow_frame(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.tokens_at) * RATE_PER_S)
        self.tokens_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self._allow_frame():
            await self.close(code=CLOSE_FLOOD)
            return
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw) > settings.WS_MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            frame = json_loads_bounded(raw)
        except JSONTooDeep as exc:
            # Under the size limit a frame can still nest thousands of levels deep.
            await self.send_error("too_deep", str(exc))
            return
        except ValueError:
            await self.send_error("bad_json", "Frames must be JSON objects.")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("bad_frame", "A frame is a JSON object with a string 'type'.")
            return
        name = self.client_frames.get(frame["type"])
        handler = getattr(self, name) if name is not None else None
        if handler is None:
            await self.send_error("unknown_type", f"Unknown frame type {frame['type'][:40]!r}.")
            return
        try:
            await handler(frame)
        except FrameError as exc:
            await self.send_error(exc.code, exc.message)

    async def on_ping(self, frame: dict[str, Any]) -> None:
        await self.send_frame({"type": "pong", "seq_head": self.last_sent})

    async def on_hello(self, frame: dict[str, Any]) -> None:
        last = frame.get("last_seq", 0)
        if last is None:
            last = 0
        if not isinstance(last, int) or isinstance(last, bool) or last < 0:
            raise FrameError("bad_field", "last_seq must be a non-negative integer.")
        head, self.joined_head = self.joined_head, None
        if head is not None and last == head:
            # Up to date when the socket joined its groups: nothing to read (a reconnect storm
            # is mostly phones that missed nothing); what came since is pushed to it.
            catch_up = CatchUp(frames=[], head=head)
        else:
            catch_up = await self.catch_up(last)
        async with self.send_lock:
            if catch_up.frames is None:
                await self._send_snapshot(catch_up.head)
            else:
                for f in await self.replayable(catch_up.frames):
                    await self._send_json(f)
            self.last_sent = catch_up.head
            self.synced = True
            buffered, self.pending = self.pending, []
        for f in buffered:
            await self.deliver(f)

    # --- pushing --------------------------------------------------------------------------

    async def notice_push(self, message: dict[str, Any]) -> None:
        await self.deliver(message["frame"])

    async def deliver(self, frame: dict[str, Any]) -> None:
        """Send a live notice in order; fill a gap from the database first."""
        async with self.send_lock:
            if not self.synced:
                self.pending.append(frame)
                return
            seq = int(frame["seq"])
            if seq <= self.last_sent:
                return
            if seq > self.last_sent + 1:
                catch_up = await self.catch_up(self.last_sent)
                if catch_up.frames is None:
                    await self._send_snapshot(catch_up.head)
                    self.last_sent = catch_up.head
                    return
                for f in await self.replayable(catch_up.frames):
                    if f["seq"] <= seq:
                        await self._send_json(f)
                        self.last_sent = f["seq"]
                return
            await self._send_json(frame)
            self.last_sent = seq

    async def catch_up(self, last: int) -> CatchUp:
        """What the audience issued after `last`, from the database (`notices_since`)."""
        catch_up = await catch_ups((self.audience, last))
        assert catch_up is not None
        return catch_up

    async def send_frame(self, frame: dict[str, Any]) -> None:
        async with self.send_lock:
            await self._send_json(frame)

    async def replayable(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The catch-up frames worth sending again (all, unless a subclass says otherwise)."""
        return frames

    async def _send_snapshot(self, head: int) -> None:
        for frame in snapshot_frames(head, await self.snapshot()):
            await self._send_json(frame)

    async def _send_json(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False, default=str))

    async def send_error(self, code: str, message: str) -> None:
        await self.send_frame({"type": "error", "code": code, "message": message})


class FrameError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class AlertResender:
    """One loop per server process (per event loop) re-sends every unreceipted alert to the units
    connected here, every ALERT_RESEND_S, with one query for all of them.

    A loop per socket polled the outbox once per socket and period: with 2,000 idle units that
    was 96% of daphne's database thread (bench/connections.py, py-spy) and connects stalled.
    """

    _by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AlertResender] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self) -> None:
        self.consumers: dict[int, set[UnitConsumer]] = {}
        self.task: asyncio.Task[None] | None = None

    @classmethod
    def here(cls) -> AlertResender:
        loop = asyncio.get_running_loop()
        if loop not in cls._by_loop:
            cls._by_loop[loop] = cls()
        return cls._by_loop[loop]

    def add(self, consumer: UnitConsumer) -> None:
        self.consumers.setdefault(consumer.unit_id, set()).add(consumer)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._loop())

    def remove(self, consumer: UnitConsumer) -> None:
        here = self.consumers.get(consumer.unit_id)
        if here is not None:
            here.discard(consumer)
            if not here:
                del self.consumers[consumer.unit_id]

    async def _loop(self) -> None:
        while self.consumers:
            await asyncio.sleep(settings.ALERT_RESEND_S)
            try:
                await self.resend()
            except Exception:  # one failed round must not stop the re-sends
                log.exception("alert re-send round failed")
        self.task = None

    async def resend(self) -> None:
        if not self.consumers:
            return
        frames = await database_sync_to_async(services.alerts_resend)(unit_ids=list(self.consumers))
        for unit_id, unit_frames in frames.items():
            for consumer in list(self.consumers.get(unit_id, ())):
                for frame in unit_frames:
                    await consumer.send_frame(frame)


class UnitConsumer(SequencedConsumer):
    """A patrol unit's crew. Alerts are re-sent until the app returns a delivery receipt."""

    client_frames: ClassVar[dict[str, str]] = {
        **SequencedConsumer.client_frames,
        "alert.received": "on_alert_received",
        "position": "on_position",
    }
    unit_id: int = 0

    async def resolve_audience(self, user: Any) -> str | None:
        # Read with the token (sel.crew_units_prefetch); a session's user is read here.
        unit_id: int | None
        if hasattr(user, sel.CREW_UNIT):
            unit_id = getattr(user, sel.CREW_UNIT)
        else:
            unit_id = await crew_units(user)
        if unit_id is None:
            return None
        self.unit_id = unit_id
        self.last_fix = 0.0
        return unit_audience(unit_id)

    def unit_id_joined(self) -> int:
        return self.unit_id

    async def on_joined(self, joined: services.Joined) -> None:
        await self.send_frame({"type": "welcome", "unit_id": self.unit_id})
        # The alerts awaiting a receipt, read (and counted as sent) with the join.
        for frame in joined.alerts:
            await self.send_frame(frame)
        AlertResender.here().add(self)

    async def disconnect(self, code: int) -> None:
        if self.unit_id:
            AlertResender.here().remove(self)
        await super().disconnect(code)

    async def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = await database_sync_to_async(sel.unit_snapshot)(self.unit_id)
        return snap

    async def replayable(self, frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A replayed dispatch alert goes out only while it still stands: a fresh login is never
        alerted (vibration, sound) for an incident that was acknowledged, moved on or closed."""
        alert_ids = [str(f.get("alert_id")) for f in frames if f.get("type") == "dispatch.alert"]
        if not alert_ids:
            return frames
        answers = await asyncio.gather(*(live_alerts(a) for a in alert_ids))
        live = {a for a, stands in zip(alert_ids, answers, strict=True) if stands}
        # A stale alert keeps its place in the sequence (the client's count stays gap-free) as a
        # silent `dispatch.expired` frame.
        return [
            f
            if f.get("type") != "dispatch.alert" or str(f.get("alert_id")) in live
            else {
                "type": "dispatch.expired",
                "seq": f.get("seq"),
                "alert_id": f.get("alert_id"),
                "incident_id": (f.get("incident") or {}).get("id"),
            }
            for f in frames
        ]

    async def on_alert_received(self, frame: dict[str, Any]) -> None:
        try:
            alert_id = uuid.UUID(str(frame.get("alert_id")))
        except ValueError as exc:
            raise FrameError("bad_field", "alert_id must be a UUID.") from exc
        ok = await database_sync_to_async(alert_receipt)(alert_id=alert_id, unit_id=self.unit_id)
        await self.send_frame(
            {"type": "alert.receipt", "alert_id": str(alert_id), "accepted": bool(ok)}
        )

    async def on_position(self, frame: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_fix < settings.POSITION_FIX_MIN_INTERVAL_S / 2:
            return  # throttled: the phone reports faster than the server stores
        self.last_fix = now
        errors = await database_sync_to_async(services.position_record_frame)(self.unit_id, frame)
        if errors:
            raise FrameError("bad_field", json.dumps(errors, ensure_ascii=False))


class CommandConsumer(SequencedConsumer):
    """Commanders and dispatchers: every incident change, escalation and unit position."""

    async def resolve_audience(self, user: Any) -> str | None:
        if not await database_sync_to_async(is_command_centre)(user):
            return None
        return COMMAND

    async def snapshot(self) -> dict[str, Any]:
        snap: dict[str, Any] = await database_sync_to_async(sel.command_snapshot)()
        return snap

    async def unit_position(self, message: dict[str, Any]) -> None:
        # Positions are ephemeral (the latest one is in every snapshot): no sequence number.
        await self.send_frame(message["frame"])

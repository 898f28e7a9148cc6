"""Writes for the shared building blocks: API tokens and daily sequences."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from .counters import counter_next
from .models import AccessLog, ApiToken, DailySequence, hash_token
from .push import push_after_commit
from .roles import Role


def token_issue(*, user: User, label: str = "") -> tuple[ApiToken, str]:
    """Create a token; returns the row and the raw key (shown once, never stored)."""
    raw = ApiToken.new_key()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        prefix=raw[:8],
        label=label[:100],
        created_at=now,
        expires_at=now + ApiToken.default_expiry(),
    )
    return token, raw


def token_revoke_all(*, user: User) -> int:
    """Revoke every active token of a user (a lost phone). Returns how many were revoked."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def sequence_next(*, name: str, day: date) -> int:
    """The next number of a per-day counter. Locks the counter row until the caller commits."""
    return counter_next(DailySequence, key={"name": name, "day": day}, field="last")


SYSTEM_USERNAME = "system"


def system_user() -> User:
    """The account the system acts as (escalations): cannot log in, acts as a dispatcher.

    Its events in the timeline show that no person took the step.
    """
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"is_active": False, "first_name": "系统"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        group, _ = Group.objects.get_or_create(name=str(Role.DISPATCHER))
        user.groups.add(group)
    return user


def user_sessions_end(*, user: User) -> int:
    """Delete the user's browser sessions (admin, command map): they must log in again.

    Sessions are stored signed and encoded, so the unexpired ones are decoded one by one; this
    runs on a commander's click, not on a hot path. Returns how many were ended.
    """
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            ended += 1
    return ended


def user_sign_out_everywhere(*, user: User) -> tuple[int, int]:
    """The commander's kill switch for a lost phone: revoke every API token of the user and end
    their browser sessions. Returns (tokens revoked, sessions ended)."""
    with transaction.atomic():
        counts = token_revoke_all(user=user), user_sessions_end(user=user)
        # Sockets already open close too (every consumer joins its user's group).
        push_after_commit(user_group(user.pk), {"type": "session.revoked"})
        return counts


def user_deactivate(*, user: User) -> bool:
    """Deactivate a user (suspended, left the service): their password, tokens and sessions stop
    authenticating (each checks is_active) and, after commit, their open websockets close as a
    revoked token's do. The admin's user form and its action both come here. One conditional
    UPDATE, no lock. Returns whether the user was active.

    The close is sent even if the row was already inactive: the admin's form saves is_active
    before it calls this.
    """
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=True).update(is_active=False)
        user.is_active = False
        push_after_commit(user_group(user.pk), {"type": "session.revoked"})
    return bool(changed)


def user_group(user_id: int) -> str:
    """The channel-layer group of one user's open websockets."""
    return f"user.{user_id}"


def access_log_record(*, user: Any, action: str, target: Any, via: str = "") -> AccessLog:
    """Record that `user` saw `target` (a model instance) in full. One insert, no lock."""
    label = f"{target._meta.app_label}.{target._meta.model_name}:{target.pk}"
    return AccessLog.objects.create(user=user, action=action, target=label, via=via[:200])

"""Token authentication with expiry and revocation (hashed keys, see ApiToken)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from .models import ApiToken, hash_token
from .roles import roles_prefetch

# A token's last use is written at most this often: the lookup is on every request's hot path.
TOUCH_EVERY_S = 60


def users_for_tokens(raws: Collection[str], *, with_roles: bool = False) -> dict[str, Any]:
    """The active user behind each raw token, by token; those expired, revoked, unknown or of an
    inactive user are missing. One query for any number of tokens (the websocket handshakes of a
    reconnect storm come in together), one more to touch their last use, and with `with_roles`
    one for the users' roles."""
    by_hash = {hash_token(raw): raw for raw in raws}
    now = timezone.now()
    tokens = list(
        ApiToken.objects.select_related("user").filter(
            key_hash__in=by_hash, revoked_at__isnull=True, expires_at__gt=now
        )
    )
    users = {by_hash[t.key_hash]: t.user for t in tokens if t.user.is_active}
    stale = [
        t.pk
        for t in tokens
        if t.last_used_at is None or (now - t.last_used_at).total_seconds() > TOUCH_EVERY_S
    ]
    if stale:
        ApiToken.objects.filter(pk__in=stale).update(last_used_at=now)
    if with_roles:
        roles_prefetch(users.values())
    return users


def user_for_token(raw: str) -> Any | None:
    """The active user behind a raw token, or None (expired, revoked, unknown, inactive)."""
    return users_for_tokens([raw]).get(raw)


def tokens_still_valid(key_hashes: Collection[str]) -> set[str]:
    """Of these token hashes, those that still authenticate (not revoked, not expired, the user
    active): the websocket handshake asks again once its socket is in the user's group, so a
    sign-out that committed while the handshake ran cannot leave a socket open."""
    return set(
        ApiToken.objects.filter(
            key_hash__in=key_hashes,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        ).values_list("key_hash", flat=True)
    )


class ExpiringTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, None]:
        user = user_for_token(key)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked token."))
        return (user, None)

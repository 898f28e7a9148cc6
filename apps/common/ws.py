"""Websocket authentication: the session cookie, or `?token=` for the patrol app."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware

from .auth import user_for_token


class TokenQueryAuthMiddleware(BaseMiddleware):
    """Replaces the session user with the token's user when `?token=` is given.

    A bad token leaves the connection anonymous (the consumer then refuses it); it never falls
    back to a session user, so a stale phone token cannot ride on someone else's cookie.
    """

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if tokens:
            # Imported here: the ASGI module builds this stack before the apps are loaded.
            from django.contrib.auth.models import AnonymousUser

            user = await database_sync_to_async(user_for_token)(tokens[0])
            scope = dict(scope, user=user or AnonymousUser())
        return await super().__call__(scope, receive, send)


def WebsocketAuthStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenQueryAuthMiddleware(inner))

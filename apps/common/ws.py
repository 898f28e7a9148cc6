"""Websocket authentication: the session cookie, or `?token=` for the patrol app; and `Batched`,
which gathers the database reads of the handshakes that arrive together into one trip.

After a deployment or a crash thousands of phones reconnect to one process within seconds. One
trip to the database thread per handshake and step (token, unit, catch-up) queued them behind
each other (bench/connections.py, bench/storm.py); gathered, one trip and one query serve all
the handshakes waiting at that moment.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async

from .auth import users_for_tokens
from .models import hash_token

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class _Waiting(Generic[K, V]):
    calls: list[tuple[K, asyncio.Future[V | None]]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


class Batched(Generic[K, V]):
    """`await batched(key)` → `fn(keys)[key]` (None when missing), `fn` run in the database
    thread for every key asked for while an earlier run was going on: the first call goes at
    once, the calls that come during its trip go together in the next one (at most `limit`
    keys a trip). `fn` takes a list of distinct keys and returns a mapping by key.

    One queue per event loop (the tests run each scenario on a loop of its own). A caller that
    is cancelled (its client went away) leaves the batch without disturbing the others; an
    error of `fn` is raised to every caller of that trip.
    """

    def __init__(self, fn: Callable[[list[K]], Mapping[K, V]], *, limit: int = 500) -> None:
        self.fn = fn
        self.limit = limit
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting[K, V]] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Waiting()
        future: asyncio.Future[V | None] = loop.create_future()
        queue.calls.append((key, future))
        if queue.task is None:
            queue.task = loop.create_task(self._drain(queue))
        return await future

    async def _drain(self, queue: _Waiting[K, V]) -> None:
        try:
            while queue.calls:
                calls = queue.calls[: self.limit]
                del queue.calls[: self.limit]
                keys = list(dict.fromkeys(key for key, future in calls if not future.done()))
                if not keys:
                    continue
                try:
                    found = await database_sync_to_async(self.fn)(keys)
                except Exception as exc:
                    for _, future in calls:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for key, future in calls:
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            queue.task = None


# What the routes read of the users in the token's own trip (the crews' units).
UsersPrefetch = Callable[[list[Any]], None]


def _users_for_tokens(prefetch: UsersPrefetch | None, raws: list[str]) -> dict[str, Any]:
    # With their roles: the consumers decide on them without another trip.
    users = users_for_tokens(raws, with_roles=True)
    if prefetch is not None and users:
        prefetch(list(users.values()))
    return users


class TokenQueryAuthMiddleware:
    """`?token=`: the token's user (or anonymous), and the session stack is not consulted at
    all; without a token, the session cookie (Channels' AuthMiddlewareStack).

    A bad token leaves the connection anonymous (the consumer then refuses it); it never falls
    back to a session user, so a stale phone token cannot ride on someone else's cookie. The
    scope carries `token_hash`, with which the consumer checks the token once more after it has
    joined the user's group (a sign-out that committed meanwhile still closes the socket).

    `prefetch(users)` runs in the same trip to the database thread on the users found, for what
    the consumers read of them next (the crews' units): one trip fewer per handshake.
    """

    def __init__(self, inner: Any, prefetch: UsersPrefetch | None = None) -> None:
        self.inner = inner
        self.by_session = AuthMiddlewareStack(inner)
        self.token_users: Batched[str, Any] = Batched(partial(_users_for_tokens, prefetch))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        if not tokens:
            return await self.by_session(scope, receive, send)
        # Imported here: the ASGI module builds this stack before the apps are loaded.
        from django.contrib.auth.models import AnonymousUser

        user = await self.token_users(tokens[0])
        scope = dict(scope, user=user or AnonymousUser(), token_hash=hash_token(tokens[0]))
        return await self.inner(scope, receive, send)


def WebsocketAuthStack(inner: Any, prefetch: UsersPrefetch | None = None) -> Any:
    return TokenQueryAuthMiddleware(inner, prefetch)

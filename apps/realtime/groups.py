"""Joining and leaving a socket's channel-layer groups in one Redis round trip.

channels_redis makes two round trips per group joined (ZADD, then EXPIRE) and one per group left;
a socket joins two groups (its audience's and its user's), so a handshake waited on four. Here
the commands of all the groups go in one pipeline per Redis shard, the same commands
channels_redis sends. Any other layer (the in-memory one of the embedded setup and the tests)
is called group by group.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from channels_redis.core import RedisChannelLayer


def _by_shard(layer: RedisChannelLayer, groups: Iterable[str]) -> dict[int, list[str]]:
    shards: dict[int, list[str]] = {}
    for group in groups:
        assert layer.require_valid_group_name(group), "Group name not valid"
        shards.setdefault(layer.consistent_hash(group), []).append(group)
    return shards


async def groups_add(layer: Any, channel: str, groups: Iterable[str]) -> None:
    """Add `channel` to every group (as `group_add` does, one round trip per shard)."""
    if not isinstance(layer, RedisChannelLayer):
        for group in groups:
            await layer.group_add(group, channel)
        return
    assert layer.require_valid_channel_name(channel), "Channel name not valid"
    now = time.time()
    for index, names in _by_shard(layer, groups).items():
        async with layer.connection(index).pipeline(transaction=False) as pipe:
            for group in names:
                key = layer._group_key(group)
                pipe.zadd(key, {channel: now})
                # Everything in the group expires before this (channels_redis's own rule).
                pipe.expire(key, layer.group_expiry)
            await pipe.execute()


async def groups_discard(layer: Any, channel: str, groups: Iterable[str]) -> None:
    """Remove `channel` from every group (as `group_discard` does, one round trip per shard)."""
    if not isinstance(layer, RedisChannelLayer):
        for group in groups:
            await layer.group_discard(group, channel)
        return
    for index, names in _by_shard(layer, groups).items():
        async with layer.connection(index).pipeline(transaction=False) as pipe:
            for group in names:
                pipe.zrem(layer._group_key(group), channel)
            await pipe.execute()

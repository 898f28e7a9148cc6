"""The floor of a websocket handshake: a bare ASGI app under daphne that accepts, sends a welcome
frame and answers pings, with no Django, no database and no Redis (`daphne bench.wsfloor:app`).

bench/connections.py measures it beside the real consumers, in the same conditions: on a shared
machine the figures of both move together, and the ratio says what our handshake adds to
daphne's own.
"""

from __future__ import annotations

import json
from typing import Any

WELCOME = json.dumps({"type": "welcome", "unit_id": 0})
PONG = json.dumps({"type": "pong", "seq_head": 0})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":  # the harness's readiness probe
        await receive()
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": WELCOME})
        elif message["type"] == "websocket.receive":
            frame = json.loads(message.get("text") or "{}")
            if isinstance(frame, dict) and frame.get("type") == "ping":
                await send({"type": "websocket.send", "text": PONG})
        elif message["type"] == "websocket.disconnect":
            return

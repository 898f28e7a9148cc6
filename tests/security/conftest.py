from __future__ import annotations

# The shared small-city fixture, and a fresh channel layer per test (as tests/realtime has).
from tests.incidents.conftest import world  # noqa: F401
from tests.realtime.conftest import _fresh_channel_layer  # noqa: F401

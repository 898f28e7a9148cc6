from __future__ import annotations

import pytest

from tests.support.ws import fresh_channel_layer


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel-layer state, as in tests/realtime."""
    fresh_channel_layer()

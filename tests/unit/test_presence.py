"""Who is online across API processes: each process announces the users connected to it, and
one that stops announcing (gone, or restarted under a new node id) drops out and is forgotten."""

from __future__ import annotations

import pytest

from pingan.api import realtime
from pingan.api.realtime import PRESENCE_S, Hub


def test_a_process_that_stops_announcing_drops_out_and_is_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(realtime.time, "monotonic", lambda: clock[0])
    hub = Hub(lambda sessions: set())
    hub._receive({"k": "presence", "node": "a", "users": [1, 2]})
    hub._receive({"k": "presence", "node": hub.node, "users": [99]})  # its own echo: ignored
    assert hub.online_users() == {1, 2}

    clock[0] += 3 * PRESENCE_S + 1  # "a" restarted as "b"
    hub._receive({"k": "presence", "node": "b", "users": [3]})
    assert hub.online_users() == {3}
    assert set(hub._elsewhere) == {"b"}

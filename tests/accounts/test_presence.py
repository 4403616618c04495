"""The presence store: sockets counted per user, a chosen status, entries that expire.

It runs on Redis with REDIS_URL and in this process otherwise: both are exercised by running
the suite in both modes."""
import pytest

from apps.accounts import presence


@pytest.fixture(autouse=True)
def nobody_connected():
    presence._clear()
    yield
    presence._clear()


def test_tabs_count_once_and_the_last_one_closed_is_offline():
    assert presence.statuses([7]) == {7: "offline"}
    assert presence.socket_seen(user_id=7, socket="tab-1") == 1
    assert presence.socket_seen(user_id=7, socket="tab-2") == 2
    assert presence.socket_seen(user_id=7, socket="tab-2") == 2  # a heartbeat is not a new socket
    presence.status_set(user_id=7, status="away")
    assert presence.socket_gone(user_id=7, socket="tab-1") == 1
    assert presence.statuses([7, 8]) == {7: "away", 8: "offline"}
    assert presence.socket_gone(user_id=7, socket="tab-2") == 0
    assert presence.statuses([7]) == {7: "offline"}
    with pytest.raises(ValueError):
        presence.status_set(user_id=7, status="busy")


def test_a_socket_whose_server_died_stops_counting_after_the_ttl(monkeypatch, settings):
    # given a socket seen at t=1000 (TTL 90 s) and never refreshed (its server process died)
    settings.PRESENCE_TTL_SECONDS = 90
    clock = [1000.0]
    monkeypatch.setattr(presence.time, "time", lambda: clock[0])
    presence.socket_seen(user_id=9, socket="lost")
    # then it counts until the TTL, not after
    clock[0] = 1089.0
    assert presence.statuses([9]) == {9: "online"}
    clock[0] = 1091.0
    assert presence.statuses([9]) == {9: "offline"}
    # and a new socket is counted alone
    assert presence.socket_seen(user_id=9, socket="new") == 1

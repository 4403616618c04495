"""When an account starts failing the admins' desks hear it live, once per outage: the desk's own
socket (/ws/desk/, WebsocketCommunicator on the real ASGI app), not a poll."""
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from apps.accounts.models import Role
from apps.connectors.services import channel_account_record_failure, channel_account_record_success
from tests.inbox.test_realtime import _communicator, _drain, _headers


@pytest.mark.django_db(transaction=True)
def test_admins_hear_once_that_an_account_started_failing_and_agents_do_not(make_user, make_account, eager_celery):
    # given two admins and an agent with the desk open
    admins = [make_user(role=Role.ADMIN), make_user(role=Role.ADMIN)]
    agent = make_user(role=Role.AGENT)
    account = make_account(kind="api", name="Tienda CRM", inbound_token_hash="x")
    fail = sync_to_async(lambda error: channel_account_record_failure(account=account, error=error))
    succeed = sync_to_async(lambda: channel_account_record_success(account=account))

    headers = [_headers(user) for user in (*admins, agent)]  # sessions made here, outside the event loop

    async def scenario():
        sockets = [_communicator(h) for h in headers]
        for socket in sockets:
            assert (await socket.connect())[0]
            await _drain(socket, quiet=0.5)  # the hello frames
        # when its replies fail three times in a row, then work, then fail again
        for _ in range(3):
            await fail("reply to https://crm.tienda.example/hook: HTTP 503")
        first = [await _drain(socket) for socket in sockets]
        await succeed()
        await fail("reply to https://crm.tienda.example/hook: ConnectionError")
        second = [await _drain(socket) for socket in sockets]
        for socket in sockets:
            await socket.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()

    def alerts(frames):
        return [f["notification"] for f in frames if f.get("type") == "notification"]

    # then each admin got one notification for the outage, one for the next outage; the agent none
    for frames in first[:2]:
        assert [(n["kind"], n["link"], n["conversation_id"]) for n in alerts(frames)] == [
            ("channel_failing", f"/console/channels/{account.id}/health/", None)]
        assert alerts(frames)[0]["text"] == "API: Tienda CRM started failing: reply to https://crm.tienda.example/hook: HTTP 503"
    for frames in second[:2]:
        assert len(alerts(frames)) == 1 and alerts(frames)[0]["text"].endswith("ConnectionError")
    assert alerts(first[2]) == [] and alerts(second[2]) == []

"""Fixtures and helpers shared by the desk's browser tests (tests/browser/test_desk*.py)."""
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connections
from django.utils import timezone

from apps.accounts.models import Role
from apps.connectors.models import ChannelKind
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Conversation
from apps.inbox.services.ingest import messages_ingest

SHOTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "desk"


def shoot(page, name: str) -> None:
    """A screenshot at a common laptop size into artifacts/desk/ (CI keeps artifacts/)."""
    page.set_viewport_size({"width": 1440, "height": 900})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def _in(account, external_id, *, minutes_ago, senders, **kwargs) -> InboundMessage:
    return InboundMessage(
        account_id=account.id,
        external_id=external_id,
        senders=senders,
        sent_at=timezone.now() - timedelta(minutes=minutes_ago),
        **kwargs,
    )


def seed_desk(make_account, team) -> dict[str, Conversation]:
    """A morning's inbox: every channel, a missed call, a form, a public tweet, a hideable comment."""
    email = make_account(kind=ChannelKind.EMAIL, name="soporte@tienda.example", team=team)
    twitter = make_account(kind=ChannelKind.TWITTER, name="@TiendaAyuda", team=team)
    facebook = make_account(kind=ChannelKind.FACEBOOK, name="Tienda (Facebook)", team=team)
    phone = make_account(kind=ChannelKind.PHONE, name="Centralita +34 910 000 000", team=team)
    webform = make_account(kind=ChannelKind.WEBFORM, name="Formulario de contacto", team=team)
    lucia = [SenderIdentity("email", "lucia.fernandez@example.es", "Lucía Fernández"), SenderIdentity("phone", "+34612345678", "Lucía Fernández")]
    batch = [
        _in(email, "<m1@example.es>", minutes_ago=250, senders=lucia, subject="Devolución del pedido 4471", thread_key="<m1@example.es>",
            text="Hola, quiero devolver las zapatillas del pedido 4471.",
            html="<p>Hola,</p><p>quiero devolver las <b>zapatillas</b> del pedido 4471, la talla no es la correcta.</p>"
                 "<blockquote>Pedido 4471 · 2 artículos</blockquote><p>Gracias,<br>Lucía</p>"),
        _in(phone, "CA-missed-1", minutes_ago=200, senders=[SenderIdentity("phone", "+34612345678", "Lucía Fernández")],
            kind="call", thread_key="+34612345678", text="Missed call from +34 612 34 56 78",
            metadata={"call": {"from": "+34612345678", "to": "+34910000000", "direction": "inbound", "status": "no-answer",
                               "started_at": (timezone.now() - timedelta(minutes=200)).isoformat(), "duration_seconds": 0,
                               "recording_url": "", "needs_callback": True, "source": "twilio", "notes": "", "logged_by": None}}),
        _in(twitter, "tw-1", minutes_ago=30, senders=[SenderIdentity("twitter", "1234", "Marcos Ruiz", handle="marcosruiz")],
            is_public=True, thread_key="tw-conv-1", text="@TiendaAyuda llevo una semana esperando mi pedido 5120 y nadie responde 😡",
            metadata={"twitter": {"tweet_id": "tw-1", "conversation_id": "tw-conv-1", "author_id": "1234",
                                  "author_handle": "marcosruiz", "url": "https://x.com/marcosruiz/status/1"}}),
        _in(facebook, "fb-c-1", minutes_ago=18, senders=[SenderIdentity("facebook", "fb-77", "Irene Soto")],
            is_public=True, thread_key="post-9:fb-77", text="¿Hacéis envíos a Canarias? Nadie me contesta por privado.",
            metadata={"facebook": {"comment_id": "fb-c-1", "post_id": "post-9", "from_id": "fb-77", "hidden": False,
                                   "can_hide": True, "permalink": "https://www.facebook.com/tienda/posts/9?comment_id=1"}}),
        _in(webform, "form-1", minutes_ago=7, senders=[SenderIdentity("email", "jordi@example.cat", "Jordi Puig")], kind="form",
            subject="Factura de empresa", text="Necesito la factura a nombre de mi empresa.",
            metadata={"form": {"slug": "contacto", "title": "Contacto · facturas", "fields": [
                {"name": "name", "label": "Nombre", "value": "Jordi Puig"},
                {"name": "company", "label": "Empresa", "value": "Puig i Fills SL"},
                {"name": "vat", "label": "NIF", "value": "B12345678"},
                {"name": "message", "label": "Mensaje", "value": "Necesito la factura del pedido 6001 a nombre de mi empresa."}]}}),
    ]
    crm = make_account(kind=ChannelKind.PUSH, name="Tienda CRM", team=team)  # no outbound_url: replies fail
    batch.append(_in(crm, "crm-1", minutes_ago=300, senders=lucia[:1], subject="Estado del reembolso 4471", thread_key="rma-4471",
                     text="La clienta pregunta por el reembolso del pedido 4471."))
    messages_ingest(messages=batch)
    by_channel = {c.channel_account.kind: c for c in Conversation.objects.select_related("channel_account")}
    return by_channel


def off_loop(fn, *args, **kwargs):
    """Run a service in another thread. Playwright's sync API keeps an event loop in the test's
    thread, where Channels' async_to_sync (publishing live events) refuses to run."""

    def run():
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's own connections

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


@pytest.fixture
def desk_team(team, make_user):
    ana = make_user(role=Role.AGENT, teams=[team], username="ana", first_name="Ana", last_name="García")
    luis = make_user(role=Role.AGENT, teams=[team], username="luis", first_name="Luis", last_name="Martín")
    return team, ana, luis



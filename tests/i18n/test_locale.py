"""How the language and the time zone are chosen, through the real middleware, views and catalogs.

A signed-in user's profile wins; else the browser's Accept-Language; else English. Times on the
server follow the user's time zone, else the desk's TIME_ZONE. docs/languages.md.
"""
from datetime import datetime, timezone as dt_timezone

import pytest
from django.utils import translation

from apps.accounts.models import User
from apps.inbox.models import Message
from apps.inbox.services.ingest import messages_ingest

pytestmark = pytest.mark.django_db


def page(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, response.status_code
    return response


def test_a_visitor_gets_the_browsers_language_and_english_otherwise(client):
    # when the sign-in page is asked for in Spanish, in English, and in a language the desk does not speak
    spanish = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="es-AR,es;q=0.9,en;q=0.5")
    english = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    other = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="de-DE")
    # then each is served in its language (es-AR falls back to es), and German in English
    assert '<html lang="es"' in spanish.text and "Iniciar sesión" in spanish.text and "Contraseña" in spanish.text
    assert spanish["Content-Language"] == "es" and "Accept-Language" in spanish["Vary"]
    assert '<html lang="en"' in english.text and "Sign in" in english.text and "Iniciar sesión" not in english.text
    assert "Sign in" in other.text


def test_the_users_own_language_wins_over_the_browser_and_times_follow_the_users_zone(client, make_user, team, make_account, inbound):
    # given a conversation whose last message came on 5 December at 09:00 UTC, and an agent who reads Spanish in Buenos Aires
    account = make_account(team=team)
    messages_ingest(messages=[inbound(account, email="eva@example.es", sent_at=datetime(2026, 12, 5, 9, 0, tzinfo=dt_timezone.utc))])
    agent = make_user(teams=[team], language="es", time_zone="America/Argentina/Buenos_Aires")
    client.force_login(agent)
    # when her browser asks for English
    html = page(client, "/", HTTP_ACCEPT_LANGUAGE="en-US").text
    # then the desk speaks Spanish, with the time zone and language handed to the desk's scripts on <html>
    assert '<html lang="es" data-time-zone="America/Argentina/Buenos_Aires">' in html
    assert "Bandeja" in html and "Sin asignar" in html and "Cerrar sesión" in html and "Unassigned" not in html
    # and the list's server-rendered time is 06:00 in Buenos Aires (UTC-3), not 09:00, with a Spanish month
    assert 'title="5 Dic 2026 06:00">06:00</time>' in html
    # and the script catalog (a same-origin script, CSP script-src 'self') is in her language
    catalog = page(client, "/jsi18n/", HTTP_ACCEPT_LANGUAGE="en-US")
    assert catalog["Content-Type"].startswith("text/javascript")
    assert "Enviar respuesta" in catalog.content.decode() and "Le han mencionado" in catalog.content.decode()


def test_an_agent_without_a_language_of_her_own_follows_the_browser_and_the_desks_zone(client, make_user, team, settings):
    agent = make_user(teams=[team])
    client.force_login(agent)
    html = page(client, "/", HTTP_ACCEPT_LANGUAGE="es-ES").text
    assert f'<html lang="es" data-time-zone="{settings.TIME_ZONE}">' in html and "Bandeja" in html
    assert '<html lang="en"' in page(client, "/", HTTP_ACCEPT_LANGUAGE="en").text


def test_the_profile_page_saves_language_and_time_zone_and_refuses_an_unknown_zone(client, make_user, team):
    # given an agent reading the desk in English
    agent = make_user(teams=[team])
    client.force_login(agent)
    form = page(client, "/profile/", HTTP_ACCEPT_LANGUAGE="en").text
    assert "Your profile" in form and "Europe/Madrid" in form and "Español" in form
    # when she picks Spanish and Madrid
    response = client.post("/profile/", {"language": "es", "time_zone": "Europe/Madrid"}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    # then both are stored and the confirmation, and the page, are already in Spanish
    agent.refresh_from_db()
    assert (agent.language, agent.time_zone) == ("es", "Europe/Madrid")
    assert "Su idioma y su zona horaria se han guardado." in response.text and "Su perfil" in response.text
    # and a zone that does not exist is refused with a clear error, nothing changed
    bad = client.post("/profile/", {"language": "en", "time_zone": "Mars/Olympus_Mons"})
    assert bad.status_code == 200 and "Mars/Olympus_Mons" in bad.text
    agent.refresh_from_db()
    assert (agent.language, agent.time_zone) == ("es", "Europe/Madrid")
    # and "" means: follow the browser again
    client.post("/profile/", {"language": "", "time_zone": ""})
    agent.refresh_from_db()
    assert (agent.language, agent.time_zone) == ("", "")


def test_the_profile_page_needs_a_signed_in_user(client):
    assert client.get("/profile/")["Location"].startswith("/login/")


def test_errors_the_desk_shows_from_the_api_come_in_the_users_language(client, make_user, team, make_account, inbound):
    # given a conversation an agent reads in Spanish
    account = make_account(team=team)
    (message_id,) = messages_ingest(messages=[inbound(account, email="eva@example.es")]).message_ids
    conversation_id = Message.objects.get(pk=message_id).conversation_id
    agent = make_user(teams=[team], language="es")
    client.force_login(agent)
    # when she sends an empty note
    response = client.post(f"/api/conversations/{conversation_id}/messages/", {"text": " ", "kind": "note"},
                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    # then the message the composer shows is Spanish
    assert response.status_code == 400
    assert response.json()["message"] == "El mensaje está vacío"


def test_the_time_zone_of_a_request_does_not_leak_into_the_next_one(client, make_user, team):
    # given one request by an agent in Buenos Aires
    client.force_login(make_user(teams=[team], time_zone="America/Argentina/Buenos_Aires"))
    page(client, "/")
    client.logout()
    # then a visitor's page right after, on the same thread, is in the desk's zone and a browser language
    html = page(client, "/login/", HTTP_ACCEPT_LANGUAGE="en").text
    assert 'data-time-zone="UTC"' in html


def test_unknown_stored_zone_falls_back_to_the_desks(client, make_user, team):
    # a zone removed from the tz database after it was saved (written straight to the row)
    agent = make_user(teams=[team])
    User.objects.filter(pk=agent.pk).update(time_zone="Nowhere/Gone")
    client.force_login(agent)
    assert 'data-time-zone="UTC"' in page(client, "/", HTTP_ACCEPT_LANGUAGE="en").text


@pytest.fixture(autouse=True)
def _english_after():
    yield
    translation.activate("en")


def test_notifications_are_written_in_the_recipients_language(make_user, team, make_account, inbound):
    from apps.inbox.models import Conversation, Notification
    from apps.inbox.services.conversations import conversation_update
    from apps.inbox.services.replies import note_create

    # given Ana reads Spanish, Luis has no language of his own
    account = make_account(team=team)
    messages_ingest(messages=[inbound(account, email="eva@example.es", subject="Pedido 12")])
    conversation = Conversation.objects.get()
    ana = make_user(teams=[team], username="ana", first_name="Ana", language="es")
    luis = make_user(teams=[team], username="luis", first_name="Luis")
    # when each is mentioned by the other, whatever language the writer's request is in
    with translation.override("en"):
        note_create(conversation=conversation, author=luis, text="@ana mira esto")
    with translation.override("es"):
        note_create(conversation=conversation, author=ana, text="@luis look at this")
        conversation_update(conversation=conversation, actor=luis, assignee=ana)
    # then each notification is written in its recipient's language
    texts = dict(Notification.objects.values_list("user__username", "text").order_by("id")[:2])
    assert texts == {"ana": "Luis le mencionó: @ana mira esto", "luis": "Ana mentioned you: @luis look at this"}
    assigned = Notification.objects.get(kind="assigned")
    assert assigned.text == f"Luis le asignó la conversación n.º {conversation.id}: Pedido 12"

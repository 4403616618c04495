"""The console pages: each kind added through its generated form, write-only secrets, plain-words
errors, webhook URLs, the generated secret shown once, enable/disable, test connection, remove."""
import re

import pytest
from django.utils import timezone

from apps.connectors.models import ChannelAccount
from apps.connectors.registry import channel_for

from .kinds import ACCOUNTS, SECRET_VALUES

pytestmark = pytest.mark.django_db


def _form(kind: str, values: dict, *, name: str, team=None, poll_interval=None) -> dict:
    channel = channel_for(kind)
    form = {"name": name, "team": team.id if team else ""}
    for field in channel.settings:
        value = values["settings"].get(field.name)
        if field.type == "bool":
            if value is not False:
                form[f"s_{field.name}"] = "on"
        elif value is not None:
            form[f"s_{field.name}"] = str(value)
    for key, value in values["secrets"].items():
        form[f"x_{key}"] = value
    if poll_interval:
        form["poll_interval"] = str(poll_interval)
    return form


@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_each_kind_is_added_through_its_page(admin_client, team, kind):
    # given the generated form of this kind
    page = admin_client.get(f"/console/channels/new/{kind}/").content.decode()
    for field in channel_for(kind).settings:
        assert f'name="s_{field.name}"' in page
    for field in channel_for(kind).secrets:
        assert re.search(rf'<input type="password" name="x_{field.name}" value=""', page)
    # when the admin fills it in and connects
    response = admin_client.post(f"/console/channels/new/{kind}/", _form(kind, ACCOUNTS[kind], name=f"Tienda {kind}", team=team,
                                                                        poll_interval=90))
    # then it exists, with its settings typed and its secrets stored, and its page shows what to copy
    assert response.status_code == 201, response.content.decode()[:2000]
    account = ChannelAccount.objects.get(kind=kind)
    assert account.team == team and account.secrets == {**ACCOUNTS[kind]["secrets"], **{
        k: v for k, v in account.secrets.items() if k == "verify_token"}}
    text = response.content.decode()
    assert not any(secret in text for secret in SECRET_VALUES)
    if channel_for(kind).poll_interval:
        assert account.poll_interval == 90
    for _label, url_name in channel_for(kind).webhook_urls:
        assert f"http://testserver/" in text and f"/{account.id}/" in text
    if kind == "facebook":
        assert account.secrets["verify_token"] in text and "shown only once" in text
        assert account.secrets["verify_token"] not in admin_client.get(f"/console/channels/{account.id}/").content.decode()
    if kind == "api":
        token = re.search(r'data-secret-once>([^<]+)<', text).group(1)
        assert ChannelAccount.hash_token(token) == account.inbound_token_hash
        assert token not in admin_client.get(f"/console/channels/{account.id}/").content.decode()


def test_secrets_are_write_only_on_the_edit_page(admin_client):
    admin_client.post("/console/channels/new/twitter/", _form("twitter", ACCOUNTS["twitter"], name="@Tienda"))
    account = ChannelAccount.objects.get()
    page = admin_client.get(f"/console/channels/{account.id}/").content.decode()
    today = timezone.localdate().isoformat()
    assert page.count(f"set on {today} by ana") == 4
    assert not any(secret in page for secret in SECRET_VALUES)
    # saving the form with the secret inputs left empty keeps every secret
    form = _form("twitter", {"settings": account.settings, "secrets": {}}, name="@Tienda Soporte")
    assert admin_client.post(f"/console/channels/{account.id}/", form).status_code == 302
    account.refresh_from_db()
    assert account.name == "@Tienda Soporte" and account.secrets == ACCOUNTS["twitter"]["secrets"]
    # typing one replaces only that one
    form["x_access_token"] = "SECRET-replaced"
    admin_client.post(f"/console/channels/{account.id}/", form)
    account.refresh_from_db()
    assert account.secrets["access_token"] == "SECRET-replaced" and account.secrets["consumer_key"] == "SECRET-ck-Aa01"


def test_the_form_says_what_is_wrong_and_keeps_what_was_typed(admin_client):
    form = _form("email", ACCOUNTS["email"], name="Soporte")
    form.update(s_imap_port="nine", s_imap_host="imap://x", x_imap_password="SECRET-typed-Jj10")
    response = admin_client.post("/console/channels/new/email/", form)
    assert response.status_code == 400
    text = response.content.decode()
    assert "IMAP port: Give a whole number, like 993." in text
    assert "IMAP host: Give a host name like mail.example.com or an IP address" in text
    assert 'value="nine"' in text and 'value="soporte@tienda.example"' in text
    assert "SECRET-typed-Jj10" not in text  # a typed secret is not sent back either
    assert not ChannelAccount.objects.exists()


def test_disable_enable_and_remove_from_the_page(admin_client, make_account):
    account = make_account(kind="webform")
    admin_client.post(f"/console/channels/{account.id}/enable/", {"enabled": "0"})
    account.refresh_from_db()
    assert not account.enabled
    assert "Disabled" in admin_client.get("/console/channels/").content.decode()
    admin_client.post(f"/console/channels/{account.id}/enable/", {"enabled": "1"})
    account.refresh_from_db()
    assert account.enabled
    assert admin_client.post(f"/console/channels/{account.id}/remove/").status_code == 302
    assert not ChannelAccount.objects.exists()


def test_test_connection_from_the_page_against_dovecot(admin_client, email_settings, smtp_settings, mailbox_user):
    values = {"settings": {**email_settings, **smtp_settings}, "secrets": {
        "imap_username": mailbox_user[0], "imap_password": mailbox_user[1], "smtp_username": "smtp-user", "smtp_password": "smtp-clave"}}
    admin_client.post("/console/channels/new/email/", _form("email", values, name="Soporte"))
    account = ChannelAccount.objects.get()
    page = admin_client.post(f"/console/channels/{account.id}/test/").content.decode()
    assert "It works:" in page and "accepted the login and listed 1 folder(s)" in page
    admin_client.post(f"/console/channels/{account.id}/", {**_form("email", {"settings": account.settings, "secrets": {}},
                                                                     name="Soporte"), "x_imap_password": "wrong"})
    page = admin_client.post(f"/console/channels/{account.id}/test/").content.decode()
    assert "It does not work:" in page and mailbox_user[1] not in page


def test_the_channels_list_reads_in_a_fixed_number_of_queries(admin_client, make_account, django_assert_max_num_queries):
    for i in range(30):
        make_account(kind=["email", "twitter", "api"][i % 3])
    with django_assert_max_num_queries(8):
        response = admin_client.get("/console/channels/")
    assert response.content.decode().count("data-account=") == 30


def test_saving_the_page_keeps_settings_the_form_does_not_show(admin_client, make_account):
    account = make_account(kind="email", settings={**ACCOUNTS["email"]["settings"], "timeout": 20, "smtp_helo": "tienda.example"},
                           secrets=dict(ACCOUNTS["email"]["secrets"]))
    form = _form("email", {"settings": {**ACCOUNTS["email"]["settings"], "display_name": "Soporte"}, "secrets": {}}, name="Soporte")
    assert admin_client.post(f"/console/channels/{account.id}/", form).status_code == 302
    account.refresh_from_db()
    assert account.settings["timeout"] == 20 and account.settings["smtp_helo"] == "tienda.example"
    assert account.settings["display_name"] == "Soporte" and account.settings["imap_port"] == 993


def test_an_asterisk_master_csv_is_imported_from_the_phone_accounts_page(admin_client, make_account, settings):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.inbox.models import Message

    settings.ASTERISK_TIMEZONE, settings.PHONE_DEFAULT_REGION = "Europe/Madrid", "ES"
    phone = make_account(kind="phone", settings={"source": "asterisk"})
    raw = (Path(__file__).parent.parent / "phone" / "fixtures" / "Master.csv").read_bytes()
    page = admin_client.post(f"/console/channels/{phone.id}/asterisk/", {"file": SimpleUploadedFile("Master.csv", raw)})
    assert page.status_code == 200
    calls = Message.objects.filter(channel_account=phone).count()
    assert calls > 0 and f"Master.csv: ingested {calls} · duplicates 0 · failed 0" in page.content.decode()
    # the same file again: nothing twice
    again = admin_client.post(f"/console/channels/{phone.id}/asterisk/", {"file": SimpleUploadedFile("Master.csv", raw)})
    assert f"ingested 0 · duplicates {calls}" in again.content.decode()
    assert admin_client.post(f"/console/channels/{phone.id}/asterisk/").status_code == 400  # no file: said so
    # a file posted to an account of another kind: refused on that account's page, nothing imported
    email = make_account(kind="email")
    wrong = admin_client.post(f"/console/channels/{email.id}/asterisk/", {"file": SimpleUploadedFile("Master.csv", raw)})
    assert wrong.status_code == 400 and "Only phone accounts import Asterisk files." in wrong.content.decode()
    assert not Message.objects.filter(channel_account=email).exists()


def test_rotating_the_inbound_token_from_the_page_shows_the_new_one_once(admin_client):
    created = admin_client.post("/console/channels/new/api/", _form("api", ACCOUNTS["api"], name="Tienda CRM"))
    account = ChannelAccount.objects.get()
    first = re.search(r'data-secret-once>([^<]+)<', created.content.decode()).group(1)
    rotated = admin_client.post(f"/console/channels/{account.id}/rotate/").content.decode()
    token = re.search(r'data-secret-once>([^<]+)<', rotated).group(1)
    account.refresh_from_db()
    assert token != first and ChannelAccount.hash_token(token) == account.inbound_token_hash
    assert "the old one stopped working" in rotated


def test_an_admin_opts_in_to_email_alerts_from_the_channels_page(admin_client, admin):
    from apps.connectors.models import ChannelAlertPreference

    admin_client.post("/console/channels/", {"email_alerts": "on"})
    assert ChannelAlertPreference.objects.get(user=admin).email is True
    assert "checked" in admin_client.get("/console/channels/").content.decode()
    admin_client.post("/console/channels/", {})
    assert ChannelAlertPreference.objects.get(user=admin).email is False


def test_csat_is_off_until_the_admin_ticks_it_on_the_accounts_page(admin_client):
    admin_client.post("/console/channels/new/api/", _form("api", ACCOUNTS["api"], name="Tienda CRM"))
    account = ChannelAccount.objects.get(name="Tienda CRM")
    assert account.csat_enabled is False
    page = admin_client.get(f"/console/channels/{account.id}/").content.decode()
    assert re.search(r'<input type="checkbox" name="csat">', page)
    form = _form("api", {"settings": account.settings, "secrets": {}}, name="Tienda CRM")
    assert admin_client.post(f"/console/channels/{account.id}/", {**form, "csat": "on"}).status_code == 302
    account.refresh_from_db()
    assert account.csat_enabled is True
    assert re.search(r'<input type="checkbox" name="csat" checked>', admin_client.get(f"/console/channels/{account.id}/").content.decode())
    admin_client.post(f"/console/channels/{account.id}/", form)  # unticked
    account.refresh_from_db()
    assert account.csat_enabled is False

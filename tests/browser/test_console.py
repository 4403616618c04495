"""An admin connects a mailbox from the console, tests it against the test Dovecot and sees its
first mail arrive in the desk: real uvicorn, a real Celery worker polling real IMAP, chromium."""
from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from apps.accounts.models import Role
from apps.connectors.email.tasks import email_account_poll
from apps.connectors.models import ChannelAccount
from tests.browser.conftest import login
from tests.browser.desk_fixtures import shoot
from tests.connectors.email.conftest import (  # noqa: F401  (fixtures)
    customer_box,
    dovecot,
    mailbox_user,
    smtp_server,
)
from tests.live_server import desk_queue

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def a_customer_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Carmen Vidal <carmen.vidal@example.es>"
    mail["To"] = "soporte@tienda.example"
    mail["Subject"] = "Mi pedido 7702 llegó roto"
    mail["Message-ID"] = "<pedido-7702@example.es>"
    mail["Date"] = "Sat, 05 Dec 2026 10:00:00 +0100"
    mail.set_content("Hola, la lámpara del pedido 7702 llegó rota. ¿Me enviáis otra?\nCarmen")
    return mail.as_bytes()


def test_an_admin_connects_a_mailbox_tests_it_and_sees_its_first_mail(
    page, desk_url, desk_worker, make_user, dovecot, mailbox_user, smtp_server, customer_box  # noqa: F811
):
    admin = make_user(role=Role.ADMIN, username="ana", first_name="Ana")
    login(page, admin, desk_url)
    # given the desk, whose header links the console for admins
    page.goto(f"{desk_url}/")
    page.locator("#console-link").click()
    expect(page.locator("h1")).to_have_text("Channels")
    # when Ana adds an email account with the mailbox's servers and logins
    page.locator(".add-menu summary").click()
    page.locator('.add-menu a[data-kind="email"]').click()
    page.fill('input[name="name"]', "Soporte Tienda")
    page.fill('input[name="s_address"]', "soporte@tienda.example")
    page.fill('input[name="s_imap_host"]', "127.0.0.1")
    page.fill('input[name="s_imap_port"]', str(dovecot.imap_port))
    page.select_option('select[name="s_imap_security"]', "starttls")
    page.fill('input[name="s_smtp_host"]', "127.0.0.1")
    page.fill('input[name="s_smtp_port"]', str(smtp_server.port))
    page.select_option('select[name="s_smtp_security"]', "starttls")
    page.fill('input[name="s_tls_ca_file"]', str(dovecot.cert))
    page.fill('input[name="x_imap_username"]', mailbox_user[0])
    page.fill('input[name="x_imap_password"]', mailbox_user[1])
    page.fill('input[name="x_smtp_username"]', "smtp-user")
    page.fill('input[name="x_smtp_password"]', "smtp-clave")
    shoot(page, "console-new-email")
    page.get_by_role("button", name="Connect").click()
    # then the account page says it is connected, and shows the secrets as set, never their values
    expect(page.locator(".flash.ok")).to_have_text("Soporte Tienda is connected.")
    expect(page.locator(".secret-set").first).to_contain_text("set on")
    assert mailbox_user[1] not in page.content()
    # when she tests the connection
    page.get_by_role("button", name="Test connection").click()
    # then IMAP and SMTP answered, in plain words
    expect(page.locator("#probe-result")).to_contain_text("It works:")
    expect(page.locator("#probe-result")).to_contain_text("accepted the login and listed 1 folder(s)")
    shoot(page, "console-account-tested")
    # when the first mail reaches the mailbox and the worker polls it (what the beat's next tick sends)
    account = ChannelAccount.objects.get(name="Soporte Tienda")
    page.goto(f"{desk_url}/")
    expect(page.locator("#live")).to_have_text("live")
    customer_box.deliver(a_customer_mail())
    email_account_poll.apply_async((account.id,), queue=desk_queue())
    # then it arrives in her inbox, live
    expect(page.locator("li.row", has_text="Carmen Vidal")).to_contain_text("Mi pedido 7702 llegó roto")
    shoot(page, "console-first-mail-in-desk")
    # and the console's health line counts the poll as a success
    page.goto(f"{desk_url}/console/channels/")
    expect(page.locator(f'tr[data-account="{account.id}"] .pill')).to_have_text("OK")
    shoot(page, "console-channels")
    page.goto(f"{desk_url}/console/channels/{account.id}/health/")
    shoot(page, "console-health")


def test_agents_see_no_console_link_and_get_403(page, desk_url, make_user):
    agent = make_user(role=Role.AGENT)
    login(page, agent, desk_url)
    page.goto(f"{desk_url}/")
    expect(page.locator("#live")).to_have_text("live")
    assert page.locator("#console-link").count() == 0
    assert page.goto(f"{desk_url}/console/channels/").status == 403


def test_the_channels_list_tells_the_truth_and_a_page_shows_its_secret_once(page, desk_url, make_user, make_account):
    from apps.connectors.services import channel_account_record_failure, dead_letter_keep

    admin = make_user(role=Role.ADMIN, username="ana")
    # given an X account with no credentials, a mailbox whose polls fail, and a dead letter on it
    make_account(kind="twitter", name="@TiendaAyuda")
    mailbox = make_account(kind="email", name="soporte@tienda.example", secrets={"imap_password": "x"},
                           settings={"address": "soporte@tienda.example", "imap_host": "imap.tienda.invalid", "smtp_host": "smtp.tienda.invalid"})
    channel_account_record_failure(account=mailbox, error="IMAP imap.tienda.invalid:993: gaierror: [Errno -2] Name or service not known")
    dead_letter_keep(kind="email", raw=b"garbage", error="IMAP UID 7: no From header", source="poll", account=mailbox)
    refused = []  # Content-Security-Policy violations: the console has nothing inline
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    login(page, admin, desk_url)
    page.goto(f"{desk_url}/console/channels/")
    # then each reads what it is
    expect(page.locator(f'tr:has-text("@TiendaAyuda") .pill')).to_have_text("Not configured")
    expect(page.locator(f'tr[data-account="{mailbox.id}"] .pill')).to_have_text("Failing")
    expect(page.locator(f'tr[data-account="{mailbox.id}"] .dl-count')).to_have_text("1")
    shoot(page, "console-channels-truth")
    # when she adds a Facebook Page
    page.goto(f"{desk_url}/console/channels/new/facebook/")
    page.fill('input[name="name"]', "Aurora Home")
    page.fill('input[name="s_page_id"]', "104857600123456")
    page.fill('input[name="x_page_access_token"]', "EAAB-page-token")
    page.fill('input[name="x_app_secret"]', "3f5c0a9d8e7b")
    page.get_by_role("button", name="Connect").click()
    # then the callback URL and the generated verify token are there to copy, the token this once
    account = ChannelAccount.objects.get(kind="facebook")
    expect(page.locator(".once code")).to_have_text(account.secrets["verify_token"])
    expect(page.locator(".copy-row code").nth(1)).to_have_text(f"{desk_url}/hooks/facebook/{account.id}/")
    shoot(page, "console-facebook-created")
    page.goto(f"{desk_url}/console/channels/{account.id}/")
    assert account.secrets["verify_token"] not in page.content()
    page.goto(f"{desk_url}/console/channels/{mailbox.id}/health/")
    expect(page.locator("#errors")).to_contain_text("Name or service not known")
    assert refused == []


@pytest.mark.parametrize("language,label,save", [("en", "Satisfaction survey (CSAT)", "Save"),
                                                 ("es", "Encuesta de satisfacción (CSAT)", "Guardar")])
def test_an_admin_turns_csat_on_for_a_channel(page, desk_url, make_user, make_account, language, label, save):
    admin = make_user(role=Role.ADMIN, username=f"ana-{language}", language=language)
    account = make_account(kind="api", name="Tienda CRM", settings={"outbound_url": "https://crm.tienda.example/replies"})
    login(page, admin, desk_url)
    page.goto(f"{desk_url}/console/channels/{account.id}/")
    # the switch is there, off (CSAT is an opt-in per channel)
    box = page.locator('input[name="csat"]')
    expect(page.locator("label.row", has=box)).to_contain_text(label)
    expect(box).not_to_be_checked()
    box.check()
    page.locator("label.row", has=box).scroll_into_view_if_needed()
    shoot(page, f"console-csat-{language}")
    page.get_by_role("button", name=save, exact=True).click()
    expect(page.locator('input[name="csat"]')).to_be_checked()
    account.refresh_from_db()
    assert account.csat_enabled is True

"""The admin's connection test for a mailbox (declared in email/channel.py): real Dovecot IMAP and a real SMTP server."""
import pytest

from apps.connectors.email.client import MailServerError
from apps.connectors.registry import channel_for

pytestmark = pytest.mark.django_db


def test_the_probe_logs_in_to_imap_and_smtp(email_account, smtp_settings):
    # given an account with both servers, the SMTP login falling back to the IMAP one as the sender does
    email_account.settings = {**email_account.settings, **smtp_settings}
    email_account.secrets = {**email_account.secrets, "smtp_username": "smtp-user", "smtp_password": "smtp-clave"}
    # when / then
    assert channel_for("email").probe(email_account) == (
        "IMAP 127.0.0.1 accepted the login and listed 1 folder(s) (INBOX selected); "
        "SMTP 127.0.0.1 answered EHLO and accepted the login"
    )


def test_the_probe_fails_with_the_servers_reason_on_a_wrong_password(email_account, smtp_settings):
    email_account.settings = {**email_account.settings, **smtp_settings}
    email_account.secrets = {**email_account.secrets, "imap_password": "wrong"}
    with pytest.raises(MailServerError):
        channel_for("email").probe(email_account)

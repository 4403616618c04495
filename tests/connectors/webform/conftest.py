import itertools
import random

import pytest

from apps.connectors.models import ChannelKind
from apps.connectors.webform.models import WebForm, WebFormField
from apps.connectors.webform.services import rate_limit_reset, submission_rate_limit
from apps.connectors.webform.views import rate_limit_subject

_octets = itertools.count(1)


@pytest.fixture
def webform_account(make_account, team):
    return make_account(kind=ChannelKind.WEBFORM, name="Web forms", team=team)


@pytest.fixture
def make_webform(webform_account):
    def make(slug="contact", **kwargs):
        webform = WebForm.objects.create(
            slug=slug, title=kwargs.pop("title", "Contact us"), intro="We answer within a day.",
            channel_account=kwargs.pop("channel_account", webform_account), **kwargs,
        )
        specs = [
            ("name", "Your name", "text", True, ""),
            ("email", "Email", "email", True, ""),
            ("phone", "Phone", "tel", False, ""),
            ("topic", "Topic", "select", True, "Orders\nBilling\nOther"),
            ("message", "How can we help?", "textarea", True, ""),
        ]
        for order, (name, label, kind, required, choices) in enumerate(specs):
            WebFormField.objects.create(form=webform, name=name, label=label, type=kind, required=required,
                                        choices=choices, order=order)
        return webform

    return make


@pytest.fixture
def webform(make_webform):
    return make_webform()


@pytest.fixture
def visitor_ip():
    """A fresh client address per test: the rate-limit counters live in the shared cache (Redis) across runs."""
    def make():
        ip = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{next(_octets) % 250 + 1}"
        rate_limit_reset(scope="submit", subject=rate_limit_subject(ip), rate=submission_rate_limit())
        return ip

    return make


VALID = {
    "name": "Ana García",
    "email": "ana@example.com",
    "phone": "600 11 22 33",
    "topic": "Billing",
    "message": "I was charged twice for order 1234.\nPlease refund one.",
    "website": "",
}

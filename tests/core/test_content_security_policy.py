"""Every page of the desk carries a Content-Security-Policy (django-csp), and the API docs load nothing
from another host (Swagger UI is served from static/ by drf-spectacular-sidecar).

A real browser checks that nothing on those pages breaks the policy: tests/browser/test_csp.py.
"""
import re

import pytest

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


@pytest.mark.parametrize("path, signed_in", [
    ("/", True), ("/login/", False), ("/admin/", True), ("/admin/login/", False), ("/api/docs/", False),
])
def test_every_desk_page_has_a_strict_policy_and_may_not_be_framed(client, admin_client, path, signed_in):
    # when any page of the desk is served (to an admin, or to anyone where a signed-in user is redirected)
    response = (admin_client if signed_in else client).get(path)
    # then its policy allows only the desk's own scripts, styles and connections, and no framing
    assert response.status_code == 200
    policy = directives(response)
    assert {name: policy.get(name) for name in STRICT} == STRICT
    assert policy["connect-src"] == ["'self'"]  # 'self' covers ws:/wss: of the same host (CSP level 3)
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]


def test_a_web_form_keeps_its_own_frame_ancestors_under_the_same_policy(client, make_account):
    from apps.connectors.models import ChannelKind
    from apps.connectors.webform.models import WebForm

    # given a form the company's site may embed
    WebForm.objects.create(slug="contact", title="Contact us", allowed_origins="https://www.tienda.example",
                           channel_account=make_account(kind=ChannelKind.WEBFORM))
    # when the page and its embed are served
    page, embed = client.get("/f/contact/"), client.get("/f/contact/?embed=1")
    # then both have the strict policy; only the embed may be framed, by the page itself and that site
    for response in (page, embed):
        policy = directives(response)
        assert {name: policy.get(name) for name in STRICT} == STRICT
    assert directives(page)["frame-ancestors"] == ["'self'"]
    assert directives(embed)["frame-ancestors"] == ["'self'", "https://www.tienda.example"]


def test_the_api_docs_load_nothing_from_another_host(client):
    # when the Swagger UI page is served
    html = client.get("/api/docs/").content.decode()
    # then every script, style and icon it names is on the desk's own origin
    urls = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    assert not re.search(r"(?:https?:)?//", html), "an absolute URL to another host"
    assert "<script>" not in html and "<style>" not in html  # nothing inline: script-src/style-src 'self'
    # and those files are served by the desk itself
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url

"""Admins define forms in the Django admin (inline fields) and copy the embed snippet from there."""
import pytest

from apps.accounts.models import Role
from apps.connectors.webform.models import WebForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(role=Role.ADMIN, is_staff=True, is_superuser=True))
    return client


def form_data(webform_account, **overrides):
    data = {
        "title": "Returns", "slug": "returns", "intro": "", "channel_account": webform_account.id, "enabled": "on",
        "submit_label": "Send", "success_message": "Thanks!", "confirmation_email_account": "", "allowed_origins": "",
        "fields-TOTAL_FORMS": "2", "fields-INITIAL_FORMS": "0", "fields-MIN_NUM_FORMS": "0", "fields-MAX_NUM_FORMS": "30",
        "fields-0-order": "0", "fields-0-name": "email", "fields-0-label": "Email", "fields-0-type": "email",
        "fields-0-required": "on", "fields-0-choices": "", "fields-0-help_text": "", "fields-0-max_length": "",
        "fields-1-order": "1", "fields-1-name": "reason", "fields-1-label": "Reason", "fields-1-type": "select",
        "fields-1-choices": "Damaged\nWrong size", "fields-1-help_text": "", "fields-1-max_length": "",
    }
    data.update(overrides)
    return data


def test_an_admin_defines_a_form_with_inline_fields_and_gets_its_page(admin_client, client, webform_account):
    # when an admin saves a form with two fields
    response = admin_client.post("/admin/webform/webform/add/", form_data(webform_account))
    # then it exists with its fields in order, and its public page shows them
    assert response.status_code == 302, response.context["errors"] if response.context else response
    webform = WebForm.objects.get(slug="returns")
    assert [(f.name, f.type, f.required) for f in webform.fields.all()] == [("email", "email", True), ("reason", "select", False)]
    page = client.get("/f/returns/")
    assert page.status_code == 200 and '<option value="Wrong size">' in page.content.decode()


@pytest.mark.parametrize("overrides, error", [
    ({"fields-1-choices": ""}, "A choice field needs at least one option"),
    ({"fields-1-name": "website"}, "is used by the page itself"),
    ({"fields-1-name": "Bad Name"}, "Lowercase letters, digits and _"),
    ({"fields-0-max_length": "9000"}, "At most 254 for this type"),
    ({"allowed_origins": "www.example.com/page"}, "Not an origin"),
])
def test_a_bad_definition_is_refused_with_a_reason(admin_client, webform_account, overrides, error):
    response = admin_client.post("/admin/webform/webform/add/", form_data(webform_account, **overrides))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not WebForm.objects.exists()


def test_the_change_page_shows_the_snippet_to_paste(admin_client, webform, settings):
    settings.ALLOWED_HOSTS = ["desk.tienda.example"]
    # given the form may be embedded on the shop's site
    webform.allowed_origins = "https://www.tienda.example"
    webform.title = 'Contact "us"'
    webform.save()
    # when the admin opens it
    html = admin_client.get(f"/admin/webform/webform/{webform.id}/change/", HTTP_HOST="desk.tienda.example").content.decode()
    # then the snippet names the absolute embed URL and the resize script
    assert "&lt;iframe src=&quot;http://desk.tienda.example/f/contact/?embed=1&quot; title=&quot;Contact &amp;quot;us&amp;quot;&quot;" in html
    assert "&lt;script src=&quot;http://desk.tienda.example/static/webform/embed.js&quot; async&gt;" in html
    assert "Browsers show the embed only on: https://www.tienda.example." in html

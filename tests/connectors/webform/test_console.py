"""Admins define web forms in the console (/console/forms/): fields, embedding, audited; others refused."""
import pytest

from apps.accounts.models import Role
from apps.audit.models import AuditEntry
from apps.connectors.models import ChannelKind
from apps.connectors.webform.models import WebForm

from .test_admin import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user(role=Role.ADMIN))
    return client


def test_an_admin_creates_a_form_in_the_console_and_its_page_serves_it(admin_client, client, webform_account):
    # when an admin (no Django-admin staff flag needed) saves a new form with two fields
    response = admin_client.post("/console/forms/new/", form_data(webform_account))
    # then it exists with its fields in order, the public page shows them, and the audit log says who
    webform = WebForm.objects.get(slug="returns")
    assert response.status_code == 302 and response["Location"] == f"/console/forms/{webform.id}/"
    assert [(f.name, f.type, f.required) for f in webform.fields.all()] == [("email", "email", True), ("reason", "select", False)]
    assert '<option value="Wrong size">' in client.get("/f/returns/").content.decode()
    entry = AuditEntry.objects.get(action="webform.created")
    assert entry.target_id == str(webform.id) and entry.after["fields"] == ["email", "reason"]
    # and the form is listed, and its page shows the embed snippet
    assert "/f/returns/" in admin_client.get("/console/forms/").content.decode()
    page = admin_client.get(f"/console/forms/{webform.id}/").content.decode()
    assert "data-centralita-form" in page and "?embed=1" in page


def test_editing_removes_a_field_and_the_audit_shows_before_and_after(admin_client, webform, webform_account):
    fields = list(webform.fields.all())
    data = form_data(webform_account, title=webform.title, slug=webform.slug, **{
        "fields-TOTAL_FORMS": str(len(fields)), "fields-INITIAL_FORMS": str(len(fields)),
    })
    for i, f in enumerate(fields):
        data.update({f"fields-{i}-id": str(f.id), f"fields-{i}-form": str(webform.id), f"fields-{i}-order": str(f.order),
                     f"fields-{i}-name": f.name, f"fields-{i}-label": f.label, f"fields-{i}-type": f.type,
                     f"fields-{i}-choices": f.choices, f"fields-{i}-help_text": "", f"fields-{i}-max_length": ""})
        if f.required:
            data[f"fields-{i}-required"] = "on"
    data["fields-2-DELETE"] = "on"  # the phone field
    response = admin_client.post(f"/console/forms/{webform.id}/", data)
    assert response.status_code == 302
    assert list(webform.fields.values_list("name", flat=True)) == ["name", "email", "topic", "message"]
    entry = AuditEntry.objects.get(action="webform.updated")
    assert entry.before["fields"] == ["name", "email", "phone", "topic", "message"]
    assert entry.after["fields"] == ["name", "email", "topic", "message"]


def test_a_bad_definition_is_refused_with_each_reason_and_nothing_saved(admin_client, webform_account, make_account):
    email_account = make_account(kind=ChannelKind.EMAIL, name="Mailbox")
    response = admin_client.post("/console/forms/new/", form_data(
        email_account, allowed_origins="not an origin", **{"fields-0-name": "website", "fields-1-choices": ""}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Choose a web-form channel account" in page or "Select a valid choice" in page
    assert "is used by the page itself" in page
    assert "A choice field needs at least one option" in page
    assert not WebForm.objects.exists() and not AuditEntry.objects.filter(action__startswith="webform.").exists()


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR])
def test_agents_and_supervisors_cannot_define_forms(client, make_user, role, webform_account):
    client.force_login(make_user(role=role))
    assert client.get("/console/forms/").status_code == 403
    assert client.post("/console/forms/new/", form_data(webform_account)).status_code == 403
    assert not WebForm.objects.exists()


def test_the_list_costs_the_same_queries_for_one_form_or_ten(admin_client, make_webform, django_assert_max_num_queries):
    make_webform("one")
    with django_assert_max_num_queries(8) as one:
        admin_client.get("/console/forms/")
    for n in range(9):
        make_webform(f"more-{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert admin_client.get("/console/forms/").content.decode().count("data-webform=") == 10

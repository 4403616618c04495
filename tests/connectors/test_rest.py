"""Channel accounts through the admins' REST API (apps/connectors/api.py) and the Django admin."""
import pytest

from apps.accounts.models import Role
from apps.connectors.models import ChannelAccount
from tests.builders import client_for

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "JSON here may not hold a NUL character (\\u0000), in a key or in a value."


@pytest.fixture
def admin(make_user):
    return make_user(role=Role.ADMIN, is_staff=True, is_superuser=True)


@pytest.mark.postgres  # jsonb refuses \u0000; SQLite stores it
@pytest.mark.parametrize("bad", [{"\u0000": 1}, {"outbound_url": "https://shop.example/\u0000"}, {"a": [{"b\u0000": 1}]}])
def test_settings_holding_a_nul_are_refused_with_a_400_naming_the_field(admin, make_account, bad):
    # given an admin and an API channel account
    account = make_account(settings={"kept": True})
    client = client_for(admin)
    # when settings holding a NUL are sent on create and on change
    created = client.post("/api/channel-accounts/", {"kind": "api", "name": "Tienda", "settings": bad}, format="json")
    changed = client.patch(f"/api/channel-accounts/{account.id}/", {"settings": bad}, format="json")
    # then both are a 400 that names the field and says why, and nothing was stored
    for response in (created, changed):
        assert response.status_code == 400, response.content
        assert response.json()["extra"]["fields"] == {"settings": [NUL_MESSAGE]}
    assert list(ChannelAccount.objects.values_list("name", "settings")) == [(account.name, {"kept": True})]


@pytest.mark.postgres
def test_the_admin_form_refuses_settings_or_cursor_holding_a_nul(admin, make_account):
    # given an account in the Django admin
    account = make_account(settings={"kept": True})
    client = client_for(admin)
    form = {"kind": "api", "name": account.name, "settings": '{"kept": true}', "cursor": "{}", "enabled": "on"}
    # when a NUL key is typed into settings, then into cursor
    url = f"/admin/connectors/channelaccount/{account.id}/change/"
    for field in ("settings", "cursor"):
        response = client.post(url, {**form, field: '{"\\u0000": 1}'})
        # then the form comes back with the reason under that field, and nothing changed
        assert response.status_code == 200
        assert response.context["adminform"].form.errors[field] == [NUL_MESSAGE]
    account.refresh_from_db()
    assert (account.settings, account.cursor) == ({"kept": True}, {})
    # and a clean change still saves
    assert client.post(url, {**form, "settings": '{"kept": false}'}).status_code == 302
    account.refresh_from_db()
    assert account.settings == {"kept": False}

"""A NUL character in the query string is refused once, for every view, before any of them runs."""
import pytest

from apps.accounts.models import Role
from tests.builders import client_for, conversations

pytestmark = pytest.mark.django_db

NUL_MESSAGE = "A query parameter holds a NUL character (byte 0), which no parameter may contain."


@pytest.mark.parametrize("url", [
    "/api/conversations/?q=%00",
    "/api/conversations/?q=pedido%00",
    "/api/conversations/?tag=vip%00",
    "/api/conversations/?channel=%00",
    "/api/conversations/?%00=1",
    "/api/customers/?q=%00",
    "/api/canned-responses/?q=%00",
    "/api/notifications/?unread=%00",
])
def test_the_api_answers_a_nul_in_any_parameter_with_a_400_saying_so(make_user, url):
    # when an API client sends a NUL byte in a query parameter (PostgreSQL refuses NUL in any string)
    response = client_for(make_user(role=Role.ADMIN)).get(url)
    # then a 400 in the API's error shape, not a 500
    assert response.status_code == 400
    assert response.json() == {"message": NUL_MESSAGE, "extra": {}}


@pytest.mark.parametrize("query", ["q=%00", "tag=%00", "channel=%00", "status=open%00", "ids=1%00"])
def test_the_desk_fragments_answer_a_nul_with_a_400_saying_so(make_user, make_account, inbound, query):
    # given an agent with a conversation
    (conv,) = conversations(inbound, make_account(), 1)
    client = client_for(make_user(role=Role.AGENT))
    # when a page or fragment is asked for with a NUL in its query
    for path in ("/", "/desk/list/", "/desk/rows/", "/desk/counts/", f"/desk/conversations/{conv.id}/messages/"):
        response = client.get(f"{path}?{query}")
        # then a plain 400 that says why
        assert response.status_code == 400, path
        assert response.content.decode() == NUL_MESSAGE


def test_a_nul_free_query_goes_through(make_user):
    assert client_for(make_user(role=Role.ADMIN)).get("/api/conversations/?q=pedido&tag=vip").status_code == 200

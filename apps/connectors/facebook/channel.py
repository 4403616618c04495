"""Facebook Page: Messenger and Page comments by webhook (a Graph poll as fallback), replies out."""
from apps.connectors.channel import Beat, Channel, Field, PayloadKind
from apps.connectors.social import split_json_bodies

from . import composer, moderate, parse, send, urls
from .client import graph_for


def probe(account) -> str:
    """GET /{page-id} with the Page token."""
    page_id = (account.settings or {}).get("page_id") or "me"
    page = graph_for(account).call("get_object", page_id, fields="id,name")
    return f"Graph API answered: Page {page.get('name')} ({page.get('id')})"


CHANNEL = Channel(
    kind="facebook",
    package=__package__,
    payloads=(PayloadKind("facebook", parse.parse, split_json_bodies),),
    send=send.send,
    composer=composer.rules,
    moderate=moderate.moderate,
    webhooks=(("hooks/facebook/", urls),),
    # Facebook pushes by webhook; this poll is the fallback that picks up missed events.
    beat=(Beat("facebook-poll-all", "facebook_poll_all", 300.0),),
    settings=(
        Field("page_id", "Page id", required=True),
        Field("graph_version", "Graph API version", "Default v19.0."),
    ),
    secrets=(
        Field("page_access_token", "Page access token", required=True),
        Field("app_secret", "App secret", "Verifies X-Hub-Signature-256 on the webhook.", required=True),
        Field("verify_token", "Verify token", "Any string: the same one in the app's webhook setup.", required=True),
    ),
    probe=probe,
)

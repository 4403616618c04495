"""Twitter / X: mentions and DMs polled (API v2), the Account Activity webhook, tweets and DMs out."""
from django.utils.translation import gettext_lazy as _

from apps.connectors.channel import POLL_TICK_SECONDS, Beat, Channel, Field, PayloadKind
from apps.connectors.social import split_json_bodies

from . import composer, parse, send, urls
from .client import XApi


OAUTH1 = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def missing(settings: dict, secrets: dict) -> list[str]:
    """The four OAuth 1.0a keys, or an OAuth 2.0 user bearer token."""
    if secrets.get("bearer_token") or all(secrets.get(k) for k in OAUTH1):
        return []
    return [str(_("the API key, API key secret, access token and access token secret (or a user bearer token)"))]


def probe(account) -> str:
    """GET /2/users/me with the account's credentials."""
    me = XApi(secrets=account.secrets).me()
    return f"X answered: the credentials are @{me.get('username')} (user id {me.get('id')})"


def reaches(account, identity) -> str | None:
    """An X user id, by direct message: the one-to-one DM conversation with the account's own id."""
    own = str((account.settings or {}).get("user_id") or "")
    if identity.kind != "twitter" or not own:
        return None
    return f"dm:{parse.dm_pair(own, identity.value)}"


CHANNEL = Channel(
    kind="twitter",
    package=__package__,
    payloads=(PayloadKind("twitter", parse.parse, split_json_bodies),),
    send=send.send,
    composer=composer.rules,
    webhooks=(("hooks/twitter/", urls),),
    # Polling is X's main path (webhooks need the top API tier); each account honours its 429 reset.
    beat=(Beat("twitter-poll-all", "twitter_poll_all", POLL_TICK_SECONDS),),
    poll_interval=60,
    webhook_urls=((_("Account Activity webhook URL"), "twitter-webhook"),),
    missing=missing,
    settings=(
        Field("user_id", _("User id"), _("The account's own X user id (filled by the first poll).")),
        Field("username", _("Username"), _("The handle, without @.")),
        Field("poll_dms", _("Poll DMs"), _("Also fetch direct messages (default on)."), type="bool"),
        Field("max_pages", _("Pages per poll"), _("Mention pages fetched per poll at most (default 10)."), type="int", min=1, max=100),
    ),
    secrets=(
        Field("consumer_key", _("API key"), _("OAuth 1.0a: the four keys; or a user bearer token below.")),
        Field("consumer_secret", _("API key secret"), _("Also signs the webhook (CRC and POST signatures).")),
        Field("access_token", _("Access token")),
        Field("access_token_secret", _("Access token secret")),
        Field("bearer_token", _("User bearer token"), _("OAuth 2.0 instead of the four OAuth 1.0a keys.")),
    ),
    probe=probe,
    reaches=reaches,
)

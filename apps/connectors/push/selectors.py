"""Reads of the API channel."""
from apps.connectors.models import ChannelAccount, ChannelKind


def push_account(account_id: int) -> ChannelAccount | None:
    """The API channel account a webhook names, with only what its token check needs (its secrets
    are not decrypted per webhook). Raw SQL: compiling this one-row lookup through the ORM (with the
    ORDER BY of .first()) was a quarter of a webhook's CPU (bench/README.md, webhook_profile.py)."""
    rows = ChannelAccount.objects.raw(
        f"SELECT id, kind, enabled, inbound_token_hash FROM {ChannelAccount._meta.db_table} WHERE id = %s AND kind = %s",
        [account_id, ChannelKind.PUSH],
    )
    return next(iter(rows), None)

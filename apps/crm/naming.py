"""The one definition of how a customer is named on screen (desk, API, reports).

`Customer.display_name` holds what the provider gave: a name, a handle — or, when it gave
neither, the identity's raw value, which ingest stores as the name (apps/inbox/services/ingest.py)
and the Facebook poll later replaces with the profile's name (apps/connectors/facebook/services.py
looks for exactly that value). A raw value is never shown as is:
- a phone number as the caller id gave it ("+34612345678", "0034 612 345 678", "612345678") shows
  formatted ("+34 612 34 56 78"; the desk's PHONE_DEFAULT_REGION for a national number), with a
  phone avatar;
- a Page-scoped Messenger id (14-17 digits) shows as "Messenger user ·8600";
- an X user id (18-20 digits, X's snowflake ids) as "X user ·4321".
The raw value is recognised by its shape, so no identity row is read: a list of 50 rows costs no
extra query. Nothing here touches the database; the translation is the reader's language.
"""
import re

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _

_PHONE = re.compile(r"^\+?[\d][\d ().-]{4,22}$")
_PSID = re.compile(r"^\d{14,17}$")
_X_ID = re.compile(r"^\d{18,20}$")

PHONE_AVATAR = "phone"


def format_phone(raw: str) -> str:
    """+34612345678 -> +34 612 34 56 78 (international format); what is no number stays as written."""
    value = "+" + raw.strip()[2:] if raw.strip().startswith("00") else raw.strip()
    try:
        number = phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(number):
        return raw
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _is_phone(name: str) -> bool:
    digits = sum(c.isdigit() for c in name)
    return bool(_PHONE.match(name)) and 6 <= digits <= 15 and not (_PSID.match(name) or _X_ID.match(name))


def customer_name(display_name: str) -> str:
    name = (display_name or "").strip()
    if not name:
        return _("Unknown customer")
    if _is_phone(name):
        return format_phone(name)
    if _PSID.match(name):
        return _("Messenger user ·%(last)s") % {"last": name[-4:]}
    if _X_ID.match(name):
        return _("X user ·%(last)s") % {"last": name[-4:]}
    return name


def customer_avatar(display_name: str) -> str:
    """"phone" for a customer known only by their number (the desk draws a phone), else the initial."""
    name = (display_name or "").strip()
    if _is_phone(name):
        return PHONE_AVATAR
    if not name or name.isdigit():
        return "?"
    return name[0].upper()


def is_placeholder(display_name: str) -> bool:
    """True when no real name is known (a raw id or number, or nothing)."""
    name = (display_name or "").strip()
    return not name or _is_phone(name) or bool(_PSID.match(name) or _X_ID.match(name))

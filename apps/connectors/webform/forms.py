"""The public form, built from a WebForm's fields, plus the honeypot and (inside an embed) a signed token."""
from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from apps.crm.identities import InvalidIdentity, normalize_phone

from .models import WebFormField

HONEYPOT = "website"  # bots fill a field called "website"; people never see it
EMBED_TOKEN = "embed_token"
EMBED_TOKEN_SALT = "centralita.webform.embed"
EMBED_TOKEN_MAX_AGE = 24 * 3600  # a page left open longer is asked to send again (values kept)


def embed_token(slug: str) -> str:
    return signing.dumps(slug, salt=EMBED_TOKEN_SALT, compress=True)


def embed_token_valid(token: str, slug: str) -> bool:
    try:
        return signing.loads(token or "", salt=EMBED_TOKEN_SALT, max_age=EMBED_TOKEN_MAX_AGE) == slug
    except signing.BadSignature:  # also SignatureExpired
        return False


class PhoneField(forms.CharField):
    widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})

    def validate(self, value):
        super().validate(value)
        if value:
            try:
                normalize_phone(value)
            except InvalidIdentity:
                raise forms.ValidationError(_("Enter a valid phone number, e.g. +34 600 11 22 33."), code="invalid")


_AUTOCOMPLETE = {"name": "name", "full_name": "name", "first_name": "given-name", "last_name": "family-name",
                 "nombre": "name", "company": "organization", "empresa": "organization"}


def _field_for(spec: WebFormField) -> forms.Field:
    common = {"label": spec.label, "required": spec.required, "help_text": spec.help_text}
    limit = spec.effective_max_length
    if spec.type == WebFormField.Type.EMAIL:
        return forms.EmailField(max_length=limit, widget=forms.EmailInput(attrs={"autocomplete": "email"}), **common)
    if spec.type == WebFormField.Type.TEL:
        return PhoneField(max_length=limit, **common)
    if spec.type == WebFormField.Type.TEXTAREA:
        return forms.CharField(max_length=limit, widget=forms.Textarea(attrs={"rows": 6}), **common)
    if spec.type == WebFormField.Type.SELECT:
        choices = [(c, c) for c in spec.choice_list]
        return forms.ChoiceField(choices=[("", _("Choose…")), *choices], **common)
    attrs = {"autocomplete": _AUTOCOMPLETE[spec.name]} if spec.name in _AUTOCOMPLETE else {}
    return forms.CharField(max_length=limit, widget=forms.TextInput(attrs=attrs), **common)


class SubmissionForm(forms.Form):
    """Fields in the admin's order; `specs` are the WebFormField rows."""

    # Hidden by CSS (not type=hidden, which bots skip), out of the tab order, ignored by screen readers.
    website = forms.CharField(required=False, max_length=200, label=_("Leave this field empty"),
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def __init__(self, *args, specs: list[WebFormField], embed_slug: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = specs
        honeypot = self.fields.pop(HONEYPOT)
        for spec in specs:
            self.fields[spec.name] = _field_for(spec)
        self.fields[HONEYPOT] = honeypot
        # Inside an embed: a token minted for every rendering (also when the form comes back with
        # errors), so "send again" works even when the token it was posted with had expired.
        self.embed_token = embed_token(embed_slug) if embed_slug is not None else ""

    @property
    def visible_fields_in_order(self):
        return [self[spec.name] for spec in self.specs]

    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())

    def submitted_values(self) -> list[dict]:
        """What the submitter sent, in form order, as the payload records it."""
        return [
            {"name": spec.name, "label": spec.label, "type": spec.type, "value": _newlines(self.cleaned_data.get(spec.name))}
            for spec in self.specs
        ]


def _newlines(value) -> str:
    # Browsers send a textarea's line breaks as CRLF (HTML spec); the desk stores plain \n.
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n")

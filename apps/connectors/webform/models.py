"""Web forms an admin defines (Django admin, inline fields); each has a public page /f/<slug>/."""
import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from apps.connectors.models import ChannelKind

# Hard ceilings per field type: what a visitor may type, whatever the admin sets.
TYPE_MAX_LENGTH = {"text": 500, "email": 254, "tel": 40, "textarea": 5000, "select": 200}
TYPE_DEFAULT_MAX_LENGTH = {"text": 200, "email": 254, "tel": 40, "textarea": 3000, "select": 200}
MAX_FIELDS = 30
MAX_CHOICES = 100
# Names the page itself uses: the honeypot, Django's CSRF token, the embed token.
RESERVED_NAMES = {"website", "csrfmiddlewaretoken", "embed", "embed_token"}
# English defaults, as the model has always had; the console offers them in the admin's language (gettext_noop: extracted).
DEFAULT_SUBMIT_LABEL = gettext_noop("Send")
DEFAULT_SUCCESS_MESSAGE = gettext_noop("Thank you. We have received your message and will get back to you soon.")
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


class WebForm(models.Model):
    slug = models.SlugField(max_length=80, unique=True, help_text=_("The public page is /f/<slug>/"))
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, max_length=2000, help_text=_("Shown above the fields (plain text)"))
    channel_account = models.ForeignKey(
        "connectors.ChannelAccount",
        on_delete=models.PROTECT,
        related_name="webforms",
        limit_choices_to={"kind": ChannelKind.WEBFORM},
        help_text=_("A web-form channel account; its team receives the submissions"),
    )
    submit_label = models.CharField(max_length=60, default=DEFAULT_SUBMIT_LABEL)
    success_message = models.TextField(
        max_length=2000, default=DEFAULT_SUCCESS_MESSAGE
    )
    confirmation_email_account = models.ForeignKey(
        "connectors.ChannelAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": ChannelKind.EMAIL},
        help_text=_("When set, the submitter gets a confirmation by email from this account (needs an email field)"),
    )
    enabled = models.BooleanField(default=True, help_text=_("A disabled form answers 404"))
    allowed_origins = models.TextField(
        blank=True,
        help_text=_("Sites allowed to embed this form in an iframe, one origin per line (https://www.example.com). "
                    "Empty: the form cannot be embedded on another site."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]

    def clean(self):
        bad = [o for o in self.origins if not _ORIGIN.match(o)]
        if bad:
            raise ValidationError({"allowed_origins": _("Not an origin (scheme://host[:port]): %(origins)s") % {"origins": ", ".join(bad)}})
        if self.channel_account_id and self.channel_account.kind != ChannelKind.WEBFORM:
            raise ValidationError({"channel_account": _("Choose a web-form channel account")})
        if self.confirmation_email_account_id and self.confirmation_email_account.kind != ChannelKind.EMAIL:
            raise ValidationError({"confirmation_email_account": _("Choose an email channel account")})


class WebFormField(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        EMAIL = "email", _("Email (links the submitter's email identity)")
        TEL = "tel", _("Phone (links the submitter's phone identity)")
        TEXTAREA = "textarea", _("Long text")
        SELECT = "select", _("Choice")

    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lowercase letters, digits and _, starting with a letter"))],
        help_text=_("Machine name (e.g. name, email, phone, order_number). A field named name / full_name "
                    "(or first_name + last_name) gives the customer's name."),
    )
    label = models.CharField(max_length=120)
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TEXT)
    choices = models.TextField(blank=True, help_text=_("For a choice field: one option per line"))
    required = models.BooleanField(default=False)
    help_text = models.CharField(max_length=200, blank=True)
    max_length = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Characters allowed; empty = the type's default (bounded by the type's ceiling)")
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["form", "name"], name="webform_field_name_unique")]

    def __str__(self):
        return f"{self.label} ({self.name})"

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def effective_max_length(self) -> int:
        ceiling = TYPE_MAX_LENGTH[self.type]
        return min(self.max_length or TYPE_DEFAULT_MAX_LENGTH[self.type], ceiling)

    def clean(self):
        if self.name in RESERVED_NAMES:
            raise ValidationError({"name": _("%(name)r is used by the page itself; pick another name") % {"name": self.name}})
        if self.type == self.Type.SELECT:
            options = self.choice_list
            if not options:
                raise ValidationError({"choices": _("A choice field needs at least one option")})
            if len(options) > MAX_CHOICES or any(len(o) > TYPE_MAX_LENGTH["select"] for o in options):
                raise ValidationError({"choices": _("At most %(count)d options of %(length)d characters") % {"count": MAX_CHOICES, "length": TYPE_MAX_LENGTH["select"]}})
        if self.max_length and self.max_length > TYPE_MAX_LENGTH[self.type]:
            raise ValidationError({"max_length": _("At most %(length)d for this type") % {"length": TYPE_MAX_LENGTH[self.type]}})

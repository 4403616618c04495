from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .naming import customer_avatar, customer_name


class IdentityKind(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    TWITTER = "twitter", _("Twitter / X")
    FACEBOOK = "facebook", _("Facebook")
    WEB = "web", _("Web visitor")
    EXTERNAL = "external", _("External system id")


class Customer(models.Model):
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # A merged customer stays as a tombstone pointing at the survivor, so old links resolve.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Labels on the person (lowercase names, e.g. "vip"): priority rules and SLA policies read them.
    tags = models.JSONField(default=list, blank=True)
    # Set when the customer asked to be forgotten (crm.services.customer_erase): the row stays for the
    # counts, with no name, no identities and redacted messages.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.display_name or f"Customer {self.pk}"

    @property
    def name(self) -> str:
        """How the customer is named on screen (crm/naming.py): never a raw id or an unformatted number."""
        return customer_name(self.display_name)

    @property
    def avatar(self) -> str:
        """"phone" (draw a phone) or the initial."""
        return customer_avatar(self.display_name)


class Identity(models.Model):
    """One way to reach a customer. (kind, value) is unique: one person per address."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=16, choices=IdentityKind.choices)
    value = models.CharField(max_length=255, help_text=_("Normalized: lower-case email, E.164 phone, provider user id"))
    handle = models.CharField(max_length=255, blank=True, help_text=_("@handle or address as shown"))
    display_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique_kind_value")]
        indexes = [models.Index(fields=["customer", "kind"])]
        verbose_name_plural = "identities"

    def __str__(self):
        return f"{self.kind}:{self.handle or self.value}"


class MergeSuggestion(models.Model):
    """Two customers claimed by one message: an agent decides, nothing merges silently."""

    class Status(models.TextChoices):
        OPEN = "open"
        MERGED = "merged"
        DISMISSED = "dismissed"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "other"],
                condition=models.Q(status="open"),
                name="merge_suggestion_one_open_per_pair",
            )
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]


class CustomerMerge(models.Model):
    """Audit of a merge: who folded which customer into which, and what moved."""

    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="merges")
    source = models.ForeignKey(Customer, on_delete=models.SET_NULL, null=True, related_name="+")
    source_display_name = models.CharField(max_length=200, blank=True)
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    merged_at = models.DateTimeField(auto_now_add=True)
    moved = models.JSONField(default=dict)


class DataProtectionSettings(models.Model):
    """One row (pk=1): how long resolved conversations keep their content."""

    retention_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Resolved conversations with no activity for this many months are redacted nightly; empty: kept"
    )
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def current(cls) -> "DataProtectionSettings":
        return cls.objects.get_or_create(pk=1)[0]

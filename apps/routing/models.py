from django.db import models
from django.utils.translation import gettext_lazy as _


class PriorityRule(models.Model):
    """One rule of the ordered list that sets a new conversation's priority and may moderate a comment.

    Every enabled rule is tried in order (position, then id). A rule fires when ALL the conditions
    it sets hold (channel, public/private, words in the message, a customer tag, repeated contact);
    the conversation starts at the HIGHEST priority among the rules that fired (Normal when none
    did), and each rule that fired is recorded as a reason on the conversation. A rule marked
    "stop" ends the list when it fires (a Low rule placed first can then hold a case down).
    Matching is in apps/routing/rules.py.
    """

    class Moderation(models.TextChoices):
        NONE = "", _("No moderation")
        FLAG = "flag", _("Flag the public comment for moderation")
        HIDE = "hide", _("Hide the public comment on the network (where it can), and flag it")

    position = models.PositiveSmallIntegerField(_("position"), default=100)
    name = models.CharField(
        _("name"), max_length=80, blank=True, help_text=_("Shown as the reason on the conversation, e.g. 'anger words'")
    )
    channel_kind = models.CharField(
        _("channel"), max_length=16, blank=True, help_text=_("api, email, twitter, …; blank = any channel")
    )
    is_public = models.BooleanField(
        _("public"), null=True, blank=True, help_text=_("Public messages only / private only; blank = either")
    )
    keywords = models.TextField(
        _("words and phrases"), blank=True, max_length=4000,
        help_text=_("One per line (or comma-separated); any of them in the message fires the rule. "
                    "Accents and capitals do not matter; whole words only. Blank = no word condition"),
    )
    customer_tag = models.CharField(
        _("customer tag"), max_length=50, blank=True, help_text=_("The customer carries this tag (e.g. vip); blank = any customer")
    )
    repeated_contact = models.BooleanField(
        _("repeated contact"), default=False,
        help_text=_("Only when the same customer wrote on two or more channels within the last 24 hours"),
    )
    priority = models.SmallIntegerField(
        _("priority"), null=True, blank=True, choices=[(0, _("Low")), (1, _("Normal")), (2, _("High")), (3, _("Urgent"))],
        help_text=_("Blank: the rule changes no priority (a moderation-only rule)"),
    )
    moderation = models.CharField(_("moderation"), max_length=8, choices=Moderation.choices, default="", blank=True)
    stop = models.BooleanField(_("stop here"), default=False, help_text=_("When this rule fires, later rules are not tried"))
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        if self.name:
            return self.name
        where = self.channel_kind or "any channel"
        public = {True: "public", False: "private", None: "public or private"}[self.is_public]
        level = self.get_priority_display() if self.priority is not None else "no priority"
        return f"{where}, {public} → {level}"


class TeamRouting(models.Model):
    """How a team's new conversations find an agent. Only ONLINE agents (apps/accounts/presence.py:
    a desk socket open, not "away") of the team with the agent role are candidates; with nobody
    online the conversation waits unassigned in the team's queue, as with manual routing."""

    class Mode(models.TextChoices):
        MANUAL = "manual", "Manual (agents claim)"
        ROUND_ROBIN = "round_robin", "Round robin"
        LEAST_LOADED = "least_loaded", "Least loaded (fewest open conversations; ties in turn)"

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="routing")
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.MANUAL)
    max_open_per_agent = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Capacity: an agent holding this many open or pending conversations gets no more (an agent's own "
                    "capacity overrides it); blank = the desk's default (ROUTING_DEFAULT_CAPACITY)"),
    )
    offline_grace_minutes = models.PositiveIntegerField(
        null=True, blank=True, default=15,
        help_text=_("An agent offline for longer than this hands their open, unanswered conversations back to the "
                    "queue; blank = never"),
    )
    # Whose turn was last: round robin goes on after them (a pointer, not a history).
    last_assigned = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"{self.team}: {self.get_mode_display()}"

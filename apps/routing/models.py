from django.db import models


class PriorityRule(models.Model):
    """The priority a new conversation starts with. The first matching rule (lowest position) wins;
    with no match, Normal. Default rule: a public message (tweet, comment) starts High."""

    position = models.PositiveSmallIntegerField(default=100)
    channel_kind = models.CharField(max_length=16, blank=True, help_text="api, email, twitter, …; blank = any channel")
    is_public = models.BooleanField(null=True, blank=True, help_text="Public messages only / private only; blank = either")
    priority = models.SmallIntegerField(choices=[(0, "Low"), (1, "Normal"), (2, "High"), (3, "Urgent")])
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        where = self.channel_kind or "any channel"
        public = {True: "public", False: "private", None: "public or private"}[self.is_public]
        return f"{where}, {public} → {self.get_priority_display()}"

    def matches(self, *, channel_kind: str, is_public: bool) -> bool:
        return (not self.channel_kind or self.channel_kind == channel_kind) and (
            self.is_public is None or self.is_public == is_public
        )


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
        null=True, blank=True, help_text="Capacity: an agent holding this many open or pending conversations gets no more; blank = no limit"
    )
    # Whose turn was last: round robin goes on after them (a pointer, not a history).
    last_assigned = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self):
        return f"{self.team}: {self.get_mode_display()}"

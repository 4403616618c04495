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

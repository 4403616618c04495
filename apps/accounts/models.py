from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.functional import cached_property


class Role(models.TextChoices):
    AGENT = "agent", "Agent"
    SUPERVISOR = "supervisor", "Supervisor"
    ADMIN = "admin", "Admin"


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, related_name="members", blank=True)
    # Routing (apps/routing): how many open or pending conversations this agent holds at most;
    # blank = their team's capacity (TeamRouting.max_open_per_agent), then the desk's default.
    max_open = models.PositiveIntegerField(
        "capacity", null=True, blank=True,
        help_text="Open or pending conversations this agent holds at most; blank = the team's capacity",
    )

    @cached_property
    def team_ids(self) -> list[int]:
        """Read once per request (a request has its own user object): every visibility check uses it."""
        return list(self.teams.values_list("id", flat=True))

    @property
    def sees_everything(self) -> bool:
        """Supervisors and admins see every conversation; agents those of their teams."""
        return self.is_superuser or self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_desk_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

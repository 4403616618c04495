import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Admin")


def time_zone_validate(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value}, code="invalid")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.AGENT)
    teams = models.ManyToManyField(Team, related_name="members", blank=True, verbose_name=_("teams"))
    # Empty: follow the browser (Accept-Language) / the desk's TIME_ZONE. apps/accounts/middleware.py.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="", validators=[time_zone_validate])
    # Routing (apps/routing): how many open or pending conversations this agent holds at most;
    # blank = their team's capacity (TeamRouting.max_open_per_agent), then the desk's default.
    max_open = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True,
        help_text=_("Open or pending conversations this agent holds at most; blank = the team's capacity"),
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

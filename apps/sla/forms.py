"""The supervisors' page forms. Weekly hours and closures are typed as short lines, e.g.

    Mon-Fri 09:00-14:00, 16:00-20:00          (hours)
    Sat 10:00-14:00
    2026-12-24 14:00-24:00 Christmas Eve      (closures: a day, a part of a day or a range)
    2026-08-10..2026-08-14 Summer closing
"""
import re
from datetime import date, time

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.inbox.channels import kind_choices

from .models import BusinessCalendar, Escalation, SlaPolicy

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_SPAN = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_DAYS = re.compile(r"^([a-z]{3})(?:\s*-\s*([a-z]{3}))?$")
_CLOSURE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:\.\.(\d{4}-\d{2}-\d{2}))?(?:\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2}))?\s+(.+)$")
MAX_LINES = 200


def _time(h: str, m: str) -> time:
    h, m = int(h), int(m)
    if h == 24 and m == 0:
        return time(0)  # midnight: the end of the day
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError
    return time(h, m)


def parse_hours(text: str) -> list[dict]:
    periods = []
    for n, line in enumerate(text.strip().splitlines()[:MAX_LINES], start=1):
        line = line.strip().lower()
        if not line:
            continue
        head, _sep, spans = line.partition(" ")
        days = _DAYS.match(head)
        if not days or days.group(1) not in DAYS or (days.group(2) and days.group(2) not in DAYS):
            raise forms.ValidationError(_("Line %(n)s: start with a day or a range of days, e.g. Mon-Fri"), params={"n": n})
        first = DAYS.index(days.group(1))
        last = DAYS.index(days.group(2)) if days.group(2) else first
        for span in filter(None, (s.strip() for s in spans.split(","))):
            m = _SPAN.match(span)
            try:
                start, end = _time(*m.groups()[:2]), _time(*m.groups()[2:])
            except (AttributeError, ValueError):
                raise forms.ValidationError(_("Line %(n)s: times look like 09:00-14:00"), params={"n": n}) from None
            periods += [{"weekday": d, "start": start, "end": end} for d in range(first, last + 1)]
    return periods


def hours_text(calendar: BusinessCalendar) -> str:
    by_day = {}
    for p in calendar.periods.all():
        end = "24:00" if p.end == time(0) else p.end.strftime("%H:%M")
        by_day.setdefault(p.weekday, []).append(f"{p.start.strftime('%H:%M')}-{end}")
    return "\n".join(f"{DAYS[d].capitalize()} {', '.join(spans)}" for d, spans in sorted(by_day.items()))


def parse_closures(text: str) -> list[dict]:
    closures = []
    for n, line in enumerate(text.strip().splitlines()[:MAX_LINES], start=1):
        line = line.strip()
        if not line:
            continue
        m = _CLOSURE.match(line)
        try:
            first = date.fromisoformat(m.group(1))
            last = date.fromisoformat(m.group(2)) if m.group(2) else None
            start = _time(*m.group(3).split(":")) if m.group(3) else None
            end = _time(*m.group(4).split(":")) if m.group(4) else None
        except (AttributeError, ValueError):
            raise forms.ValidationError(
                _("Line %(n)s: write a date (or date..date), optional times and a name, e.g. 2026-12-24 14:00-24:00 Christmas Eve"),
                params={"n": n},
            ) from None
        closures.append({"name": m.group(5)[:100], "date_from": first, "date_to": last, "start": start, "end": end})
    return closures


def closures_text(calendar: BusinessCalendar) -> str:
    lines = []
    for c in calendar.closures.all():
        days = c.date_from.isoformat() + (f"..{c.date_to.isoformat()}" if c.date_to else "")
        hours = f" {c.start.strftime('%H:%M')}-{'24:00' if c.end == time(0) else c.end.strftime('%H:%M')}" if c.start else ""
        lines.append(f"{days}{hours} {c.name}")
    return "\n".join(lines)


class CalendarForm(forms.ModelForm):
    hours = forms.CharField(widget=forms.Textarea(attrs={"rows": 7}), required=False, label=_("Working hours"),
                            help_text=_("One line per day or range of days: Mon-Fri 09:00-14:00, 16:00-20:00"))
    closures = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("Company days off and closures"),
                               help_text=_("2026-12-24 14:00-24:00 Christmas Eve · 2026-08-10..2026-08-14 Summer closing"))

    class Meta:
        model = BusinessCalendar
        fields = ["name", "time_zone", "always_open", "holiday_country", "holiday_subdivision"]
        labels = {"always_open": _("24/7"), "holiday_country": _("Holidays of country"), "holiday_subdivision": _("and region")}

    def clean_hours(self):
        return parse_hours(self.cleaned_data["hours"])

    def clean_closures(self):
        return parse_closures(self.cleaned_data["closures"])


class PolicyForm(forms.ModelForm):
    channel_kind = forms.ChoiceField(choices=lambda: [("", _("Any channel")), *kind_choices()], required=False, label=_("Channel"))
    escalation = forms.ChoiceField(choices=Escalation.choices, label=_("On breach"))

    class Meta:
        model = SlaPolicy
        fields = ["name", "position", "enabled", "calendar", "channel_kind", "team", "priority", "tag", "first_response_minutes",
                  "next_response_minutes", "resolution_minutes", "warning_percent", "escalation"]
        labels = {"position": _("Order"), "tag": _("Tag"), "first_response_minutes": _("First response (min)"),
                  "next_response_minutes": _("Next response (min)"), "resolution_minutes": _("Resolution (min)"),
                  "warning_percent": _("Warn at (%)")}

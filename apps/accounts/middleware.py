"""The signed-in user's language and time zone, chosen in their profile (docs/languages.md).

LocaleMiddleware (earlier in the stack) has already picked the browser's Accept-Language; it runs
before AuthenticationMiddleware, so it cannot know the user. This one runs after: a user with a
language of their own gets it, and every request gets the user's time zone or the desk's
TIME_ZONE. Visitors (public forms) keep the browser's language and the desk's time zone.
LocaleMiddleware's response half still sets Content-Language and Vary from the active language.
"""
import zoneinfo

from django.utils import timezone, translation


class UserLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language:
                translation.activate(user.language)
                request.LANGUAGE_CODE = translation.get_language()
            zone = user_time_zone(user)
            if zone is not None:
                timezone.activate(zone)
            else:
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


def user_time_zone(user) -> zoneinfo.ZoneInfo | None:
    """The user's zone, or None for the desk's default (an unknown name, e.g. a removed zone, too)."""
    name = getattr(user, "time_zone", "") or ""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None

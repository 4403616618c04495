"""The page a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE; policy in config/settings.py).

An admin lifts a lockout early with `manage.py axes_reset_username NAME` (or deletes the user's
access attempts in the admin); otherwise it ends AXES_COOLOFF_TIME after the last failure.
"""
import math

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.shortcuts import render


def lockout_response(request, original_response=None, credentials=None):
    """429 with the desk's own page: what happened, for how long, who can help.

    axes calls this with (request, response, credentials) from its sync middleware and with
    (request, credentials) from its async one, so neither argument is relied on: the username
    comes from the POSTed form, as axes itself reads it.
    """
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    context = {"username": get_client_username(request) or "", "minutes": minutes, "login_url": settings.LOGIN_URL}
    response = render(request, "accounts/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    if cool_off:
        response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response

"""Requests no view should ever see, refused once here rather than in every view."""
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _


class RejectNulQueryMiddleware:
    """A NUL character (%00) in a query parameter's name or value is a 400.

    PostgreSQL refuses NUL in any string, so `?q=%00` reaching a filter is a 500 in whichever
    view reads the parameter; no parameter of ours ever needs one.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()):
            message = _("A query parameter holds a NUL character (byte 0), which no parameter may contain.")
            if request.path.startswith("/api/"):  # the API's error shape (apps/core/errors.py)
                return JsonResponse({"message": message, "extra": {}}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

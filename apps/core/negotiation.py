"""Content negotiation for the REST API (REST_FRAMEWORK["DEFAULT_CONTENT_NEGOTIATION_CLASS"])."""
from django.utils.translation import gettext as _
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """An unknown ?format= is invalid input (a 400 naming the formats there are), not a missing
    page: DRF answers it with a 404, which says "no such object" where the object exists."""

    def filter_renderers(self, renderers, format):
        from .errors import ApplicationError  # errors imports rest_framework.views, which loads this class

        found = [renderer for renderer in renderers if renderer.format == format]
        if not found:
            raise ApplicationError(_("Unknown format"), extra={"format": format, "allowed": sorted({r.format for r in renderers})})
        return found

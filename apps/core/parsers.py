"""The API's JSON parser (REST_FRAMEWORK DEFAULT_PARSER_CLASSES; views listing their own use it too)."""
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's, plus a 400 for JSON nested deeper than Python's decoder recurses
    (`[[[[...]]]]` 50,000 deep raises RecursionError, which DRF does not catch)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deeply")) from None

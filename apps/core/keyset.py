"""Keyset (seek) pagination over a (timestamp, id) pair: each page is one index range scan.

DRF's CursorPagination keys on the first ordering field only and uses an OFFSET among
rows that share it; this one compares the whole (timestamp, id) pair, so there is never
an OFFSET, whatever the depth. Subclasses set `ordering` to (timestamp field, id field),
both ascending or both descending, e.g. ("-last_activity_at", "-id").
"""
import base64
import binascii
import json

from django.db.models import F, Field, Func, Value
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .parsing import json_parse


class KeysetPagination(BasePagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    max_page_size = 200
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        self.base_url = request.build_absolute_uri()
        size = self._page_size(request)
        cursor = self._decode(request.query_params.get(self.cursor_query_param))
        field = self.ordering[0].lstrip("-")
        backwards = bool(cursor and cursor["b"])
        # Walking backwards is walking the reversed order forwards, then flipping the page.
        descending = self.ordering[0].startswith("-") != backwards
        queryset = queryset.order_by(*([f"-{field}", "-id"] if descending else [field, "id"]))
        if cursor:
            value, pk = cursor["v"], cursor["i"]
            op, bound = ("lt", "lte") if descending else ("gt", "gte")
            # The pair as one row comparison, (timestamp, id) < (v, i): an index condition on a
            # (..., timestamp, id) index, so a page deep in a long list reads its own rows only. (Spelt
            # as an OR it was a filter after a range on the timestamp: where the planner misjudged that
            # range - one customer's years-old messages - it gathered and sorted the whole rest.)
            # The redundant bound on the timestamp alone lets it use a plain index range as well.
            after = Func(Value(value, output_field=self._field_of(queryset, field)), Value(pk), template="(%(expressions)s)",
                         output_field=Field())
            queryset = queryset.filter(**{f"{field}__{bound}": value}).alias(
                _keyset=Func(F(field), F("id"), template="(%(expressions)s)", output_field=Field())
            ).filter(**{f"_keyset__{op}": after})
        rows = list(queryset[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        self._field = field
        self._first, self._last = (rows[0], rows[-1]) if rows else (None, None)
        self.has_next = bool(rows) and (cursor is not None if backwards else more)
        self.has_previous = bool(rows) and (more if backwards else cursor is not None)
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        return self._link(self._last, backwards=False) if self.has_next else None

    def get_previous_link(self):
        return self._link(self._first, backwards=True) if self.has_previous else None

    def _link(self, row, *, backwards: bool) -> str:
        value = getattr(row, self._field)
        token = json.dumps({"b": int(backwards), "v": value.isoformat(), "i": row.id}, separators=(",", ":"))
        encoded = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
        return replace_query_param(self.base_url, self.cursor_query_param, encoded)

    def _decode(self, encoded: str | None) -> dict | None:
        if not encoded:
            return None
        try:
            data = json_parse(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
            data["v"] = parse_datetime(data["v"])
            if data["v"] is None or not isinstance(data["i"], int) or data["b"] not in (0, 1):
                raise ValueError
        except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise NotFound("Invalid cursor") from None
        return data

    @staticmethod
    def _field_of(queryset, name: str) -> Field:
        return queryset.model._meta.get_field(name)

    def _page_size(self, request) -> int:
        try:
            asked = int(request.query_params[self.page_size_query_param])
        except (KeyError, ValueError):
            return self.page_size
        return max(1, min(asked, self.max_page_size))

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Opaque cursor from a `next` / `previous` link.", "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Rows per page (max {self.max_page_size}).", "schema": {"type": "integer"}},
        ]

from datetime import date

from django import template
from django.utils.formats import date_format, number_format

register = template.Library()


def human_seconds(value) -> str:
    if value is None:
        return "—"
    value = float(value)
    if value < 90:
        return f"{value:.0f} s"
    if value < 5400:
        return f"{value / 60:.1f} min"
    if value < 172800:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


@register.filter
def cell(row: dict, column) -> str:
    """One table cell, readable: durations as s/min/h/d, percentages with %, dates localized."""
    value = row.get(column.key)
    if value is None:
        return "—"
    if column.unit == "s":
        return human_seconds(value)
    if column.unit == "%":
        return f"{number_format(value, 1)} %"
    if isinstance(value, date):
        return date_format(value, "D j M Y")
    if column.kind == "float":
        return number_format(value, 1)
    return str(value)


@register.filter
def seconds(value) -> str:
    return human_seconds(value)


@register.filter
def unit_label(column) -> str:
    return {"s": "", "%": "", "messages": "", "conversations": "", "surveys": ""}.get(column.unit, column.unit)

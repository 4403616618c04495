"""{% load crm_names %}: {{ number|phone }} shows a phone number formatted (crm/naming.py), as the
customer's name is."""
from django import template

from apps.crm.naming import format_phone

register = template.Library()


@register.filter
def phone(value) -> str:
    return format_phone(str(value)) if value else ""

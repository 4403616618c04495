"""Categories in the Django admin (admins). Articles are written on /desk/help/ or the API, where
every save is sanitized and indexed (apps/helpcenter/services.py): not here."""
from django.contrib import admin

from .models import Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("slug", "name_en", "name_es", "position")
    ordering = ("position", "slug")

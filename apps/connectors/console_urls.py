"""The admins' console pages, mounted at /console/ by config/urls.py."""
from django.urls import path

from . import console
from .webform import console as webform_console

urlpatterns = [
    path("channels/", console.channels, name="console-channels"),
    path("channels/new/<str:kind>/", console.account_new, name="console-account-new"),
    path("channels/<int:account_id>/", console.account_edit, name="console-account"),
    path("channels/<int:account_id>/enable/", console.account_enable, name="console-account-enable"),
    path("channels/<int:account_id>/test/", console.account_test, name="console-account-test"),
    path("channels/<int:account_id>/rotate/", console.account_rotate, name="console-account-rotate"),
    path("channels/<int:account_id>/remove/", console.account_remove, name="console-account-remove"),
    path("channels/<int:account_id>/asterisk/", console.account_asterisk_import, name="console-account-asterisk"),
    path("channels/<int:account_id>/health/", console.account_health, name="console-account-health"),
    path("channels/<int:account_id>/dead-letters/replay/", console.dead_letters_replay_view, name="console-replay"),
    path("channels/<int:account_id>/dead-letters/<int:dead_letter_id>/discard/", console.dead_letter_discard_view,
         name="console-discard"),
    path("forms/", webform_console.webforms, name="console-webforms"),
    path("forms/new/", webform_console.webform_edit, name="console-webform-new"),
    path("forms/<int:webform_id>/", webform_console.webform_edit, name="console-webform"),
]

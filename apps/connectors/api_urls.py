"""The admins' REST API for channels, mounted under /api/ by config/api_urls.py."""
from django.urls import path

from . import api

urlpatterns = [
    path("channel-kinds/", api.ChannelKindsView.as_view(), name="api-channel-kinds"),
    path("channel-accounts/", api.ChannelAccountListView.as_view(), name="api-channel-accounts"),
    path("channel-accounts/<int:account_id>/", api.ChannelAccountDetailView.as_view(), name="api-channel-account"),
    path("channel-accounts/<int:account_id>/rotate-token/", api.ChannelAccountRotateTokenView.as_view(),
         name="api-channel-account-rotate-token"),
    path("channel-accounts/<int:account_id>/rotate-secret/", api.ChannelAccountRotateSecretView.as_view(),
         name="api-channel-account-rotate-secret"),
    path("channel-accounts/<int:account_id>/test/", api.ChannelAccountTestView.as_view(), name="api-channel-account-test"),
    path("channel-accounts/<int:account_id>/health/", api.ChannelAccountHealthView.as_view(), name="api-channel-account-health"),
    path("channel-accounts/<int:account_id>/dead-letters/", api.ChannelAccountDeadLettersView.as_view(),
         name="api-channel-account-dead-letters"),
    path("channel-accounts/<int:account_id>/dead-letters/replay/", api.ChannelAccountReplayAllView.as_view(),
         name="api-channel-account-replay-all"),
    path("channel-accounts/<int:account_id>/audit/", api.ChannelAccountAuditView.as_view(), name="api-channel-account-audit"),
    path("dead-letters/<int:dead_letter_id>/replay/", api.DeadLetterReplayView.as_view(), name="api-dead-letter-replay"),
    path("dead-letters/<int:dead_letter_id>/discard/", api.DeadLetterDiscardView.as_view(), name="api-dead-letter-discard"),
    path("channel-alerts/", api.ChannelAlertPreferenceView.as_view(), name="api-channel-alerts"),
]

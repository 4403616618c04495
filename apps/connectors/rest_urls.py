"""The admins' REST API for channels, mounted under /api/ by config/api_urls.py."""
from django.urls import path

from . import rest

urlpatterns = [
    path("channel-kinds/", rest.ChannelKindsView.as_view(), name="api-channel-kinds"),
    path("channel-accounts/", rest.ChannelAccountListView.as_view(), name="api-channel-accounts"),
    path("channel-accounts/<int:account_id>/", rest.ChannelAccountDetailView.as_view(), name="api-channel-account"),
    path("channel-accounts/<int:account_id>/rotate-token/", rest.ChannelAccountRotateTokenView.as_view(),
         name="api-channel-account-rotate-token"),
    path("channel-accounts/<int:account_id>/rotate-secret/", rest.ChannelAccountRotateSecretView.as_view(),
         name="api-channel-account-rotate-secret"),
    path("channel-accounts/<int:account_id>/test/", rest.ChannelAccountTestView.as_view(), name="api-channel-account-test"),
    path("channel-accounts/<int:account_id>/health/", rest.ChannelAccountHealthView.as_view(), name="api-channel-account-health"),
    path("channel-accounts/<int:account_id>/dead-letters/", rest.ChannelAccountDeadLettersView.as_view(),
         name="api-channel-account-dead-letters"),
    path("channel-accounts/<int:account_id>/dead-letters/replay/", rest.ChannelAccountReplayAllView.as_view(),
         name="api-channel-account-replay-all"),
    path("channel-accounts/<int:account_id>/audit/", rest.ChannelAccountAuditView.as_view(), name="api-channel-account-audit"),
    path("dead-letters/<int:dead_letter_id>/replay/", rest.DeadLetterReplayView.as_view(), name="api-dead-letter-replay"),
    path("dead-letters/<int:dead_letter_id>/discard/", rest.DeadLetterDiscardView.as_view(), name="api-dead-letter-discard"),
    path("channel-alerts/", rest.ChannelAlertPreferenceView.as_view(), name="api-channel-alerts"),
]

"""The REST API under /api/ (the inbound channel endpoint lives in config/urls.py)."""
from django.urls import include, path

from apps.accounts.api import AgentListView, MeView
from apps.connectors import rest as channel_accounts
from apps.connectors.facebook import api as facebook
from apps.connectors.phone import api as phone_calls
from apps.crm import api as crm
from apps.inbox import api as inbox
from apps.routing.api import PriorityRuleViewSet

priority_rules = PriorityRuleViewSet.as_view({"get": "list", "post": "create"})
priority_rule = PriorityRuleViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("", include("apps.reports.api_urls")),  # /api/reports/...
    path("me/", MeView.as_view(), name="api-me"),
    path("agents/", AgentListView.as_view(), name="api-agents"),
    # inbox
    path("conversations/", inbox.ConversationListView.as_view(), name="api-conversations"),
    path("conversations/bulk/", inbox.ConversationBulkView.as_view(), name="api-conversations-bulk"),
    path("conversations/<int:conversation_id>/claim/", inbox.ConversationClaimView.as_view(), name="api-conversation-claim"),
    path("conversations/<int:conversation_id>/read/", inbox.ConversationReadView.as_view(), name="api-conversation-read"),
    path("events/", inbox.EventsView.as_view(), name="api-events"),
    path("notifications/", inbox.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", inbox.NotificationReadView.as_view(), name="api-notifications-read"),
    path("canned-responses/", inbox.CannedResponseListView.as_view(), name="api-canned-responses"),
    path("canned-responses/<int:canned_id>/", inbox.CannedResponseDetailView.as_view(), name="api-canned-response"),
    path("canned-responses/<int:canned_id>/render/", inbox.CannedResponseRenderView.as_view(), name="api-canned-response-render"),
    path("conversations/<int:conversation_id>/", inbox.ConversationDetailView.as_view(), name="api-conversation"),
    path("conversations/<int:conversation_id>/messages/", inbox.ConversationMessagesView.as_view(), name="api-conversation-messages"),
    path("conversations/<int:conversation_id>/composer/", inbox.ConversationComposerView.as_view(), name="api-conversation-composer"),
    path("messages/<int:message_id>/retry/", inbox.MessageRetryView.as_view(), name="api-message-retry"),
    path("messages/<int:message_id>/hide/", facebook.CommentHideView.as_view(), name="api-message-hide"),
    path("attachments/<int:attachment_id>/", inbox.AttachmentDownloadView.as_view(), name="api-attachment-download"),
    # customers
    path("customers/", crm.CustomerListView.as_view(), name="api-customers"),
    path("customers/<int:customer_id>/", crm.CustomerDetailView.as_view(), name="api-customer"),
    path("customers/<int:customer_id>/timeline/", crm.CustomerTimelineView.as_view(), name="api-customer-timeline"),
    path("customers/<int:customer_id>/merge/", crm.CustomerMergeView.as_view(), name="api-customer-merge"),
    path("customers/<int:customer_id>/calls/", phone_calls.CustomerCallLogView.as_view(), name="api-customer-calls"),
    path("merge-suggestions/", crm.MergeSuggestionListView.as_view(), name="api-merge-suggestions"),
    path("merge-suggestions/<int:suggestion_id>/dismiss/", crm.MergeSuggestionDismissView.as_view(), name="api-merge-suggestion-dismiss"),
    # routing
    path("priority-rules/", priority_rules, name="api-priority-rules"),
    path("priority-rules/<int:pk>/", priority_rule, name="api-priority-rule"),
    # channel accounts (admins)
    path("channel-accounts/", channel_accounts.ChannelAccountListView.as_view(), name="api-channel-accounts"),
    path("channel-accounts/<int:account_id>/", channel_accounts.ChannelAccountDetailView.as_view(), name="api-channel-account"),
    path(
        "channel-accounts/<int:account_id>/rotate-token/",
        channel_accounts.ChannelAccountRotateTokenView.as_view(),
        name="api-channel-account-rotate-token",
    ),
]

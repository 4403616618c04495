"""The REST API under /api/ (the inbound channel endpoint lives in config/urls.py)."""
from django.urls import include, path

from apps.accounts import admin_api as people
from apps.accounts.api import MeView
from apps.assist import api as assist
from apps.audit import api as audit
from apps.connectors import api_urls as channel_accounts_urls
from apps.connectors.facebook import api as facebook
from apps.connectors.phone import api as phone_calls
from apps.crm import api as crm
from apps.csat import api as csat
from apps.crm import data_protection_api as privacy
from apps.inbox import api as inbox
from apps.integrations import api as webhooks
from apps.routing.api import PriorityRuleViewSet
from apps.sla.api import CalendarViewSet, PolicyViewSet

priority_rules = PriorityRuleViewSet.as_view({"get": "list", "post": "create"})
priority_rule = PriorityRuleViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
sla_calendars = CalendarViewSet.as_view({"get": "list", "post": "create"})
sla_calendar = CalendarViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})
sla_policies = PolicyViewSet.as_view({"get": "list", "post": "create"})
sla_policy = PolicyViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"})

urlpatterns = [
    path("", include("apps.reports.api_urls")),  # /api/reports/...
    path("", include("apps.helpcenter.api_urls")),  # /api/help/... (docs/helpcenter.md)
    path("me/", MeView.as_view(), name="api-me"),
    path("agents/", inbox.AgentListView.as_view(), name="api-agents"),
    # the team (admins)
    path("users/", people.UserListView.as_view(), name="api-users"),
    path("users/<int:user_id>/", people.UserDetailView.as_view(), name="api-user"),
    path("users/<int:user_id>/deactivate/", people.UserDeactivateView.as_view(), name="api-user-deactivate"),
    path("users/<int:user_id>/reactivate/", people.UserReactivateView.as_view(), name="api-user-reactivate"),
    path("users/<int:user_id>/password-reset/", people.UserPasswordResetView.as_view(), name="api-user-password-reset"),
    path("teams/", people.TeamListView.as_view(), name="api-teams"),
    path("teams/<int:team_id>/", people.TeamDetailView.as_view(), name="api-team"),
    # the audit log (admins)
    path("audit/", audit.AuditListView.as_view(), name="api-audit"),
    path("audit/export/", audit.AuditExportView.as_view(), name="api-audit-export"),
    # outgoing webhooks (admins)
    path("webhooks/", webhooks.WebhookListView.as_view(), name="api-webhooks"),
    path("webhooks/<int:webhook_id>/", webhooks.WebhookDetailView.as_view(), name="api-webhook"),
    path("webhooks/<int:webhook_id>/resume/", webhooks.WebhookResumeView.as_view(), name="api-webhook-resume"),
    path("webhooks/<int:webhook_id>/rotate-secret/", webhooks.WebhookRotateSecretView.as_view(), name="api-webhook-rotate-secret"),
    path("webhooks/<int:webhook_id>/deliveries/", webhooks.WebhookDeliveryListView.as_view(), name="api-webhook-deliveries"),
    path("webhook-deliveries/<int:delivery_id>/resend/", webhooks.WebhookDeliveryResendView.as_view(), name="api-webhook-delivery-resend"),
    # inbox
    path("conversations/", inbox.ConversationListView.as_view(), name="api-conversations"),
    path("conversations/bulk/", inbox.ConversationBulkView.as_view(), name="api-conversations-bulk"),
    path("conversations/<int:conversation_id>/claim/", inbox.ConversationClaimView.as_view(), name="api-conversation-claim"),
    path("conversations/<int:conversation_id>/callback/", inbox.ConversationCallbackView.as_view(), name="api-conversation-callback"),
    path("conversations/<int:conversation_id>/read/", inbox.ConversationReadView.as_view(), name="api-conversation-read"),
    path("events/", inbox.EventsView.as_view(), name="api-events"),
    path("notifications/", inbox.NotificationListView.as_view(), name="api-notifications"),
    path("notifications/read/", inbox.NotificationReadView.as_view(), name="api-notifications-read"),
    path("canned-responses/", inbox.CannedResponseListView.as_view(), name="api-canned-responses"),
    path("canned-responses/<int:canned_id>/", inbox.CannedResponseDetailView.as_view(), name="api-canned-response"),
    path("canned-responses/<int:canned_id>/render/", inbox.CannedResponseRenderView.as_view(), name="api-canned-response-render"),
    path("conversations/<int:conversation_id>/", inbox.ConversationDetailView.as_view(), name="api-conversation"),
    path("customers/<int:customer_id>/outbound/", inbox.CustomerOutboundView.as_view(), name="api-customer-outbound"),
    path("conversations/<int:conversation_id>/messages/", inbox.ConversationMessagesView.as_view(), name="api-conversation-messages"),
    path("conversations/<int:conversation_id>/suggestions/", assist.ConversationSuggestionsView.as_view(), name="api-conversation-suggestions"),
    path("conversations/<int:conversation_id>/composer/", inbox.ConversationComposerView.as_view(), name="api-conversation-composer"),
    path("conversations/<int:conversation_id>/surveys/", csat.ConversationSurveysView.as_view(), name="api-conversation-surveys"),
    path("messages/<int:message_id>/retry/", inbox.MessageRetryView.as_view(), name="api-message-retry"),
    path("messages/<int:message_id>/hide/", facebook.CommentHideView.as_view(), name="api-message-hide"),
    path("attachments/<int:attachment_id>/", inbox.AttachmentDownloadView.as_view(), name="api-attachment-download"),
    # customers
    path("customers/", crm.CustomerListView.as_view(), name="api-customers"),
    path("customers/<int:customer_id>/", crm.CustomerDetailView.as_view(), name="api-customer"),
    path("customers/<int:customer_id>/tags/", crm.CustomerTagsView.as_view(), name="api-customer-tags"),
    path("customers/<int:customer_id>/timeline/", inbox.CustomerTimelineView.as_view(), name="api-customer-timeline"),
    path("customers/<int:customer_id>/merge/", crm.CustomerMergeView.as_view(), name="api-customer-merge"),
    path("customers/<int:customer_id>/calls/", phone_calls.CustomerCallLogView.as_view(), name="api-customer-calls"),
    path("customers/<int:customer_id>/export/", privacy.CustomerExportView.as_view(), name="api-customer-export"),
    path("customers/<int:customer_id>/erase/", privacy.CustomerEraseView.as_view(), name="api-customer-erase"),
    path("data-protection/", privacy.DataProtectionSettingsView.as_view(), name="api-data-protection"),
    path("merge-suggestions/", crm.MergeSuggestionListView.as_view(), name="api-merge-suggestions"),
    path("merge-suggestions/<int:suggestion_id>/dismiss/", crm.MergeSuggestionDismissView.as_view(), name="api-merge-suggestion-dismiss"),
    # routing
    path("priority-rules/", priority_rules, name="api-priority-rules"),
    path("priority-rules/<int:pk>/", priority_rule, name="api-priority-rule"),
    # SLA: business-hours calendars and policies (docs/sla.md)
    path("sla/calendars/", sla_calendars, name="api-sla-calendars"),
    path("sla/calendars/<int:pk>/", sla_calendar, name="api-sla-calendar"),
    path("sla/policies/", sla_policies, name="api-sla-policies"),
    path("sla/policies/<int:pk>/", sla_policy, name="api-sla-policy"),
    # channel accounts, dead letters, alerts (admins): apps/connectors/api_urls.py
    *channel_accounts_urls.urlpatterns,
]

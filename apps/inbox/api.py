"""REST API of the inbox: conversations, their messages, replies and notes, retries.

Views stay thin: selectors read (and enforce visibility, answering 404 for what the user
may not see), services write. Agents may change and answer any conversation they can see.
"""
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api import TeamRefSerializer, UserRefSerializer
from apps.accounts.models import Team, User
from apps.accounts.permissions import IsSupervisorOrAdmin
from apps.core import realtime
from apps.core.errors import ApplicationError
from apps.core.keyset import KeysetPagination
from apps.core.parsers import JSONParser
from apps.crm import selectors as crm_selectors
from apps.crm.api import CustomerRefSerializer

from . import selectors
from .channels import composer_rules
from .clocks import sla_data
from .events import attachment_data, snoozed_until_of, tags_of
from .models import Attachment, CannedResponse, Conversation, Message, Notification
from .services.canned import canned_create, canned_delete, canned_render, canned_update
from .services.conversations import (
    BULK_MAX,
    conversation_callback_schedule,
    conversation_claim,
    conversation_mark_read,
    conversation_update,
    conversations_bulk_update,
)
from .services.notifications import notifications_mark_read
from .services.outbound import conversation_start
from .services.replies import message_retry, note_create, reply_create
from .visibility import groups_for_user

# --- pagination -------------------------------------------------------------------------


class ConversationPagination(KeysetPagination):
    ordering = ("-last_activity_at", "-id")


class ThreadPagination(KeysetPagination):
    ordering = ("sent_at", "id")


# --- output -------------------------------------------------------------------------------


class ChannelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()


class SlaSerializer(serializers.Serializer):
    """The active SLA clock (docs/sla.md): times are instants, remaining_seconds is working time."""

    clock = serializers.ChoiceField(choices=["first_response", "next_response", "resolution"], allow_null=True)
    state = serializers.ChoiceField(choices=["ok", "warning", "breached", "paused", "none"])
    due_at = serializers.DateTimeField(allow_null=True)
    warn_at = serializers.DateTimeField(allow_null=True)
    remaining_seconds = serializers.IntegerField(allow_null=True, help_text="Working seconds left at as_of (negative: overdue)")
    ticking = serializers.BooleanField(help_text="Whether working time runs at as_of (calendar open, clock not paused)")
    until = serializers.DateTimeField(allow_null=True, help_text="When `ticking` next changes (calendar opens or closes)")
    as_of = serializers.DateTimeField()


class ConversationRowsSerializer(serializers.ListSerializer):
    def to_representation(self, data) -> list[dict]:
        conversations = list(data)
        tags = tags_of(conversations)  # one query for the page
        return [conversation_row(c, tags=tags[c.id]) for c in conversations]


class ConversationSerializer(serializers.ModelSerializer):
    """A row of the inbox. Expects selectors.with_row_extras (the requesting user's read marker
    annotated as my_read_at).

    The fields describe the row (schema, browsable API); conversation_row builds it: DRF's field
    machinery cost about 0.3 ms a row, most of a 50-row page (bench/README.md, inbox_queries)."""

    customer = CustomerRefSerializer()
    channel = ChannelRefSerializer(source="channel_account")
    assignee = UserRefSerializer(allow_null=True)
    team = TeamRefSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()
    unread = serializers.SerializerMethodField()
    snoozed_until = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id", "customer", "channel", "status", "priority", "subject", "assignee", "team", "is_public",
            "last_activity_at", "waiting_since", "last_message_preview", "message_count",
            "tags", "sla", "unread", "snoozed_until", "last_inbound_at",
        ]
        list_serializer_class = ConversationRowsSerializer

    def to_representation(self, conversation) -> dict:
        return conversation_row(conversation, tags=tags_of([conversation])[conversation.id])

    def get_tags(self, conversation) -> list[str]:
        return tags_of([conversation])[conversation.id]

    @extend_schema_field(SlaSerializer)
    def get_sla(self, conversation) -> dict:
        return sla_data(conversation)

    def get_unread(self, conversation) -> bool:
        return unread_of(conversation)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_snoozed_until(self, conversation):
        return api_datetime(snoozed_until_of(conversation))


_DATETIME = serializers.DateTimeField()


def api_datetime(value) -> str | None:
    """An instant as every DateTimeField of the API writes it (the user's time zone, "Z" for UTC)."""
    return _DATETIME.to_representation(value) if value else None


def _ref(obj, *names: str) -> dict | None:
    """A nested reference ({"id", "name"}...), None for no object: what a nested serializer answers."""
    return None if obj is None else {name: getattr(obj, name) for name in names}


def unread_of(conversation) -> bool:
    """A customer message newer than the requesting user's last read."""
    read_at = getattr(conversation, "my_read_at", None)
    return conversation.last_inbound_at is not None and (read_at is None or read_at < conversation.last_inbound_at)


def conversation_row(conversation: Conversation, *, tags: list[str]) -> dict:
    """ConversationSerializer's output, built by hand (the fields' order and formats are the
    serializer's; tests/inbox/test_rows.py compares both). Reads the columns selectors.ROW_FIELDS
    fetches. (Live events send a flatter shape, ids and UTC instants: events.conversation_data.)"""
    return {
        "id": conversation.id,
        "customer": _ref(conversation.customer, "id", "display_name", "name", "avatar"),
        "channel": _ref(conversation.channel_account, "id", "kind", "name"),
        "status": conversation.status,
        "priority": conversation.priority,
        "subject": conversation.subject,
        "assignee": _ref(conversation.assignee, "id", "username"),
        "team": _ref(conversation.team, "id", "name"),
        "is_public": conversation.is_public,
        "last_activity_at": api_datetime(conversation.last_activity_at),
        "waiting_since": api_datetime(conversation.waiting_since),
        "last_message_preview": conversation.last_message_preview,
        "message_count": conversation.message_count,
        "tags": tags,
        "sla": sla_data(conversation),
        "unread": unread_of(conversation),
        "snoozed_until": api_datetime(snoozed_until_of(conversation)),
        "last_inbound_at": api_datetime(conversation.last_inbound_at),
    }


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]

    def to_representation(self, attachment) -> dict:
        return attachment_row(attachment, request=self.context.get("request"))

    def get_url(self, attachment) -> str:
        return attachment_row(attachment, request=self.context.get("request"))["url"]


def attachment_row(attachment, *, request=None) -> dict:
    """The event's attachment (events.attachment_data), a stored file's download as an absolute URL."""
    data = attachment_data(attachment)
    if attachment.file and request is not None:
        data["url"] = request.build_absolute_uri(data["url"])
    return data


class MessageRowsSerializer(serializers.ListSerializer):
    def to_representation(self, data) -> list[dict]:
        messages = list(data)
        attachments = selectors.attachments_of(messages)  # one query for the page
        return [self.child.row(m, attachments=attachments[m.id]) for m in messages]


class MessageSerializer(serializers.ModelSerializer):
    """A message of a thread. The fields describe it (schema); message_row builds it, as
    conversation_row does a conversation."""

    author = UserRefSerializer(allow_null=True)
    attachments = AttachmentSerializer(many=True)
    details = serializers.DictField(read_only=True, help_text="Channel facts the desk shows: call, form, twitter, facebook")

    class Meta:
        model = Message
        fields = [
            "id", "direction", "kind", "author", "customer_id", "subject", "text", "html", "is_public", "sent_at",
            "delivery_status", "delivery_error", "attachments", "details",
        ]
        list_serializer_class = MessageRowsSerializer

    def to_representation(self, message) -> dict:
        return self.row(message, attachments=selectors.attachments_of([message])[message.id])

    def row(self, message, *, attachments: list) -> dict:
        return message_row(message, attachments=attachments, request=self.context.get("request"))


def message_row(message: Message, *, attachments: list, request=None) -> dict:
    """MessageSerializer's output, built by hand (tests/inbox/test_rows.py compares both)."""
    return {
        "id": message.id,
        "direction": message.direction,
        "kind": message.kind,
        "author": _ref(message.author, "id", "username"),
        "customer_id": message.customer_id,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
        "is_public": message.is_public,
        "sent_at": api_datetime(message.sent_at),
        "delivery_status": message.delivery_status,
        "delivery_error": message.delivery_error,
        "attachments": [attachment_row(a, request=request) for a in attachments],
        "details": message.details,
    }


class ConversationLabelSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.CharField()


class TimelineMessageSerializer(MessageSerializer):
    """A message in the customer's cross-channel history: it also says where it happened
    (channel) and in which conversation (a label to group the timeline by)."""

    channel = ChannelRefSerializer(source="channel_account")
    conversation = ConversationLabelSerializer()

    class Meta(MessageSerializer.Meta):
        fields = MessageSerializer.Meta.fields + ["conversation_id", "channel", "conversation"]

    def row(self, message, *, attachments: list) -> dict:
        return {
            **super().row(message, attachments=attachments),
            "conversation_id": message.conversation_id,
            "channel": _ref(message.channel_account, "id", "kind", "name"),
            "conversation": _ref(message.conversation, "id", "subject", "status"),
        }


# --- input ---------------------------------------------------------------------------------


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    snoozed_until = serializers.DateTimeField(allow_null=True, required=False,
                                              help_text="Snooze until then (status becomes snoozed); null wakes it")
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20,
                                 help_text="Tag names: replaces the set (unknown names are created)")


MESSAGE_CREATE_KINDS = [(Message.Kind.MESSAGE.value, "Reply"), (Message.Kind.NOTE.value, "Internal note")]


class MessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=True, allow_blank=True, default="")
    kind = serializers.ChoiceField(choices=MESSAGE_CREATE_KINDS, default=Message.Kind.MESSAGE)
    public = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="Replies only: public (e.g. a tweet) or private; default: the conversation's")
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                  help_text="multipart/form-data only, as files[] (or files); bounded count and size")


class ConversationStartSerializer(serializers.Serializer):
    customer = serializers.IntegerField(help_text="The customer's id")
    identity = serializers.IntegerField(help_text="One of the customer's identities: the address or account to write to")
    channel_account = serializers.IntegerField(help_text="The account to write from (GET /api/customers/<id>/outbound/ lists them)")
    subject = serializers.CharField(required=False, allow_blank=True, default="", max_length=255, help_text="Email only")
    text = serializers.CharField(trim_whitespace=True, allow_blank=True, default="")
    files = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                  help_text="multipart/form-data only, as files[] (or files)")


class OutboundIdentitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    value = serializers.CharField()
    handle = serializers.CharField()


class OutboundAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    can_send = serializers.BooleanField(help_text="Whether the channel's rules allow writing now (e.g. Messenger's windows)")
    notice = serializers.CharField(help_text="The rule that applies, in words (why not, or which window/tag)")
    max_chars = serializers.IntegerField(allow_null=True)
    conversation_id = serializers.IntegerField(allow_null=True, help_text="The existing conversation the message would go into")


class OutboundOptionSerializer(serializers.Serializer):
    identity = OutboundIdentitySerializer()
    accounts = OutboundAccountSerializer(many=True)


# --- views -----------------------------------------------------------------------------------


class ConversationListView(GenericAPIView):
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        summary="Conversations (the inbox)",
        parameters=[
            OpenApiParameter("status", str, description="open, pending, resolved; several comma-separated"),
            OpenApiParameter("channel", str, description="Channel kind: api, email, twitter, facebook, phone, webform"),
            OpenApiParameter("channel_account", int),
            OpenApiParameter("assignee", str, description="A user id, `me` or `none`"),
            OpenApiParameter("team", str, description="A team id or `none`"),
            OpenApiParameter("customer", int),
            OpenApiParameter("view", str, description="mine, unassigned, teams (my teams), all; with a view and no "
                             "status, open and pending are listed (status=any: every status)"),
            OpenApiParameter("priority", str, description="0-3, several comma-separated"),
            OpenApiParameter("tag", str, description="A tag name"),
            OpenApiParameter("sla", str, description="ok, warning, breached, paused, none (ranges on the stored due times)"),
            OpenApiParameter("q", str, description="Full text over messages; customer name, email, phone or handle"),
        ],
        responses=ConversationSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    def get_queryset(self):
        filters = selectors.ConversationFilters.from_query(self.request.query_params)
        return selectors.conversation_list(user=self.request.user, filters=filters)

    def get_serializer_class(self):
        # The browsable API's form for POST is the start form, not the row (nested, read-only).
        return ConversationStartSerializer if self.request.method == "POST" else ConversationSerializer

    @extend_schema(
        summary="Start a conversation: write first to one of a customer's identities",
        description="The channel account must be able to reach the identity (email to an address, a Messenger "
        "message to a PSID, an X direct message to a user); where the channel keeps one conversation per person, "
        "the message goes into it. The message is queued and delivered like any reply; the composer's rules "
        "apply (Messenger's 24-hour window). Returns the conversation.",
        request=ConversationStartSerializer,
        responses={201: ConversationSerializer,
                   404: OpenApiResponse(description="No such customer, identity or account, or one the user may not see")},
    )
    def post(self, request):
        data = ConversationStartSerializer(data=_message_input(request, ("customer", "identity", "channel_account", "subject", "text")))
        data.is_valid(raise_exception=True)
        values = data.validated_data
        customer, identity, account = selectors.outbound_parts(
            user=request.user, customer_id=values["customer"], identity_id=values["identity"], account_id=values["channel_account"],
        )
        message = conversation_start(author=request.user, customer=customer, identity=identity, account=account,
                                     subject=values["subject"], text=values["text"], files=values["files"])
        return _conversation_response(request, message.conversation_id, status.HTTP_201_CREATED)


class CustomerOutboundView(APIView):
    @extend_schema(summary="Where the desk can write to this customer: each identity with the accounts that reach it",
                   responses=OutboundOptionSerializer(many=True))
    def get(self, request, customer_id: int):
        options = selectors.outbound_options(user=request.user, customer_id=customer_id)
        return Response(OutboundOptionSerializer(options, many=True).data)


class ConversationDetailView(APIView):
    @extend_schema(summary="A conversation", responses=ConversationSerializer)
    def get(self, request, conversation_id: int):
        return _conversation_response(request, conversation_id)

    @extend_schema(
        summary="Change status, priority, assignee or team (each change is audited)",
        request=ConversationUpdateSerializer,
        responses=ConversationSerializer,
    )
    def patch(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = ConversationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        conversation_update(conversation=conversation, actor=request.user, **data.validated_data)
        return _conversation_response(request, conversation.id)


def _message_input(request, fields=("text", "kind", "public")) -> dict:
    """JSON as is; multipart: the fields plus every file under files[] or files."""
    if not request.FILES:
        return request.data
    data = {key: request.data.get(key) for key in fields if key in request.data}
    data["files"] = request.FILES.getlist("files[]") + request.FILES.getlist("files")
    return data


def _conversation_response(request, conversation_id: int, status_code=status.HTTP_200_OK) -> Response:
    """The conversation as the list shows it to this user, fresh after a write."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id, row_extras=True)
    return Response(ConversationSerializer(conversation).data, status=status_code)


class ConversationMessagesView(GenericAPIView):
    serializer_class = MessageSerializer
    pagination_class = ThreadPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(summary="The conversation's messages, oldest first", responses=MessageSerializer(many=True))
    def get(self, request, conversation_id: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MessageSerializer(page, many=True, context={"request": request}).data)

    def get_queryset(self):
        conversation = selectors.conversation_get(user=self.request.user, conversation_id=self.kwargs["conversation_id"])
        return selectors.message_list(conversation=conversation)

    @extend_schema(
        summary="Reply to the customer, or add an internal note",
        description="kind=message: queued, then delivered on the conversation's channel (delivery_status becomes "
        "sent or failed; a failed one can be retried). kind=note: internal, never leaves the desk.",
        request=MessageCreateSerializer,
        responses={201: MessageSerializer},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = MessageCreateSerializer(data=_message_input(request))
        data.is_valid(raise_exception=True)
        text, kind, public = data.validated_data["text"], data.validated_data["kind"], data.validated_data["public"]
        files = data.validated_data["files"]
        if kind == Message.Kind.NOTE:
            message = note_create(conversation=conversation, author=request.user, text=text, files=files)
        else:
            message = reply_create(conversation=conversation, author=request.user, text=text, is_public=public, files=files)
        return Response(MessageSerializer(message, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ConversationComposerView(APIView):
    @extend_schema(
        summary="What the composer allows here: public/private, max length, the reply window",
        responses={200: dict},
    )
    def get(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        return Response(composer_rules(conversation).as_dict())


class MessageRetryView(APIView):
    @extend_schema(
        summary="Send a failed reply again",
        request=None,
        responses={202: MessageSerializer, 409: OpenApiResponse(description="not a failed reply")},
    )
    def post(self, request, message_id: int):
        message = selectors.message_get(user=request.user, message_id=message_id)
        retried = message_retry(message=message, actor=request.user)
        return Response(MessageSerializer(retried, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


class AttachmentDownloadView(APIView):
    @extend_schema(summary="Download an attachment", responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, attachment_id: int):
        attachment = selectors.attachment_get(user=request.user, attachment_id=attachment_id)
        if not attachment.file:  # provider-hosted media: the message lists its URL
            raise Http404("This attachment is not stored here")
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type or "application/octet-stream",
        )


# --- work on conversations: claim, bulk, read --------------------------------------------------


class ConversationClaimView(APIView):
    @extend_schema(
        summary="Take a conversation (assign it to me)",
        parameters=[OpenApiParameter("force", int, description="1: take it even if someone else holds it")],
        request=None,
        responses={200: ConversationSerializer, 409: OpenApiResponse(description="someone else holds it")},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        force = request.query_params.get("force") in ("1", "true")
        conversation_claim(conversation=conversation, user=request.user, force=force)
        return _conversation_response(request, conversation_id)


class CallbackInputSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When to call back (in the future): the conversation sleeps until then, held by you")


class ConversationCallbackView(APIView):
    @extend_schema(
        summary="Schedule a call-back: snooze until then and assign it to me",
        request=CallbackInputSerializer,
        responses={200: ConversationSerializer, 400: OpenApiResponse(description="not in the future"),
                   404: OpenApiResponse(description="no such conversation, or one I may not see")},
    )
    def post(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = CallbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation_callback_schedule(conversation=conversation, user=request.user, at=data.validated_data["at"])
        return _conversation_response(request, conversation_id)


class ConversationReadView(APIView):
    @extend_schema(summary="Mark read for me (unread again at the next customer message)", request=None, responses={204: None})
    def post(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        conversation_mark_read(conversation=conversation, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=BULK_MAX)
    changes = ConversationUpdateSerializer()


class ConversationBulkView(APIView):
    @extend_schema(
        summary="The same change on many conversations (those I may see)",
        request=BulkInputSerializer,
        responses={200: inline_serializer("BulkResult", {"updated": serializers.IntegerField()})},
    )
    def post(self, request):
        data = BulkInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = conversations_bulk_update(user=request.user, ids=data.validated_data["ids"], changes=data.validated_data["changes"])
        return Response({"updated": updated})


# --- resync ------------------------------------------------------------------------------------


class EventsView(APIView):
    @extend_schema(
        summary="Live events missed since an event id (resync after a dropped socket)",
        parameters=[OpenApiParameter("after", int, description="The last event id seen (0: none)")],
        responses={200: inline_serializer("EventResync", {
            "events": serializers.ListField(child=serializers.DictField()),
            "last_id": serializers.IntegerField(),
            "complete": serializers.BooleanField(),
        })},
    )
    def get(self, request):
        try:
            after = int(request.query_params.get("after", "0"))
        except ValueError:
            raise ApplicationError("after must be an event id", extra={"after": request.query_params.get("after")}) from None
        return Response(realtime.events_after(after=after, groups=groups_for_user(request.user)))


# --- notifications -----------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "conversation_id", "link", "text", "created_at", "read_at"]


class NotificationListView(GenericAPIView):
    serializer_class = NotificationSerializer
    pagination_class = KeysetPagination  # newest first

    @extend_schema(
        summary="My notifications, newest first",
        parameters=[OpenApiParameter("unread", int, description="1: unread only")],
        responses=NotificationSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    def get_queryset(self):
        qs = Notification.objects.filter(user=self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs.order_by("-created_at", "-id")


class NotificationReadInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), max_length=1000)


class NotificationReadView(APIView):
    @extend_schema(summary="Mark my notifications read", request=NotificationReadInput,
                   responses={200: inline_serializer("NotificationReadResult", {"updated": serializers.IntegerField()})})
    def post(self, request):
        data = NotificationReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"updated": notifications_mark_read(user=request.user, ids=data.validated_data["ids"])})


# --- canned responses --------------------------------------------------------------------------


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "shortcut", "title", "text"]


class _CannedPermission(IsAuthenticated):
    """Everyone signed in reads and uses them; supervisors and admins change them."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or getattr(view, "use_only", False):
            return super().has_permission(request, view)
        return IsSupervisorOrAdmin().has_permission(request, view)


class CannedResponseListView(APIView):
    permission_classes = [_CannedPermission]
    MAX = 500

    @extend_schema(
        summary="Canned responses (search by shortcut or title)",
        parameters=[OpenApiParameter("q", str)],
        responses=CannedResponseSerializer(many=True),
    )
    def get(self, request):
        q = (request.query_params.get("q") or "").strip().lstrip("/")
        qs = CannedResponse.objects.all()
        if q:
            # Both columns have a trigram index on PostgreSQL (migration 0006).
            qs = qs.filter(Q(shortcut__icontains=q) | Q(title__icontains=q))
        return Response(CannedResponseSerializer(qs.order_by("shortcut")[: self.MAX], many=True).data)

    @extend_schema(summary="Create one (supervisors, admins)", request=CannedResponseSerializer,
                   responses={201: CannedResponseSerializer})
    def post(self, request):
        data = CannedResponseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        canned = canned_create(actor=request.user, **data.validated_data)
        return Response(CannedResponseSerializer(canned).data, status=status.HTTP_201_CREATED)


class CannedResponseDetailView(APIView):
    permission_classes = [_CannedPermission]

    @extend_schema(summary="One canned response", responses=CannedResponseSerializer)
    def get(self, request, canned_id: int):
        return Response(CannedResponseSerializer(get_object_or_404(CannedResponse, pk=canned_id)).data)

    @extend_schema(summary="Change one (supervisors, admins)", request=CannedResponseSerializer, responses=CannedResponseSerializer)
    def patch(self, request, canned_id: int):
        canned = get_object_or_404(CannedResponse, pk=canned_id)
        data = CannedResponseSerializer(canned, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(CannedResponseSerializer(canned_update(canned=canned, actor=request.user, **data.validated_data)).data)

    @extend_schema(summary="Delete one (supervisors, admins)", responses={204: None})
    def delete(self, request, canned_id: int):
        canned_delete(canned=get_object_or_404(CannedResponse, pk=canned_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CannedRenderInput(serializers.Serializer):
    conversation_id = serializers.IntegerField()


class CannedResponseRenderView(APIView):
    permission_classes = [_CannedPermission]
    use_only = True  # rendering is using, not managing: every agent may

    @extend_schema(
        summary="The text with the conversation's variables filled in",
        request=CannedRenderInput,
        responses={200: inline_serializer("CannedRendered", {"text": serializers.CharField()})},
    )
    def post(self, request, canned_id: int):
        canned = get_object_or_404(CannedResponse, pk=canned_id)
        data = CannedRenderInput(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_get(user=request.user, conversation_id=data.validated_data["conversation_id"])
        return Response({"text": canned_render(canned=canned, conversation=conversation, agent=request.user)})


# --- a customer's timeline (every message on every channel; the customer is the crm's) ----------


class TimelinePagination(KeysetPagination):
    ordering = ("-sent_at", "-id")


class CustomerTimelineView(GenericAPIView):
    serializer_class = TimelineMessageSerializer
    pagination_class = TimelinePagination

    @extend_schema(summary="Every message of the customer on every channel, newest first", responses=TimelineMessageSerializer(many=True))
    def get(self, request, customer_id: int):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(TimelineMessageSerializer(page, many=True, context={"request": request}).data)

    def get_queryset(self):
        customer, _ = crm_selectors.customer_get(user=self.request.user, customer_id=self.kwargs["customer_id"])
        return selectors.customer_timeline(user=self.request.user, customer_id=customer.id)


# --- the desk's people with their presence and load (open and pending conversations) -----------


class AgentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    username = serializers.CharField()
    role = serializers.CharField()
    status = serializers.ChoiceField(choices=["online", "away", "offline"])
    open_assigned = serializers.IntegerField(help_text="Open and pending conversations assigned to them")
    teams = TeamRefSerializer(many=True)


class AgentListView(APIView):
    permission_classes = [IsSupervisorOrAdmin]

    @extend_schema(responses=AgentSerializer(many=True), summary="Agents with presence and load (supervisors, admins)")
    def get(self, request):
        return Response(AgentSerializer(selectors.agents_with_load(), many=True).data)

"""REST API of the inbox: conversations, their messages, replies and notes, retries.

Views stay thin: selectors read (and enforce visibility, answering 404 for what the user
may not see), services write. Agents may change and answer any conversation they can see.
"""
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api import TeamRefSerializer, UserRefSerializer
from apps.accounts.models import Team, User
from apps.connectors.composer import composer_rules
from apps.core.keyset import KeysetPagination

from . import selectors
from .models import Attachment, Conversation, Message
from .services.conversations import conversation_update
from .services.replies import message_retry, note_create, reply_create

# --- pagination -------------------------------------------------------------------------


class ConversationPagination(KeysetPagination):
    ordering = ("-last_activity_at", "-id")


class ThreadPagination(KeysetPagination):
    ordering = ("sent_at", "id")


# --- output -------------------------------------------------------------------------------


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class ChannelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()


class ConversationSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer()
    channel = ChannelRefSerializer(source="channel_account")
    assignee = UserRefSerializer(allow_null=True)
    team = TeamRefSerializer(allow_null=True)

    class Meta:
        model = Conversation
        fields = [
            "id", "customer", "channel", "status", "priority", "subject", "assignee", "team", "is_public",
            "last_activity_at", "waiting_since", "last_message_preview", "message_count",
        ]


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "url"]

    def get_url(self, attachment) -> str:
        """Stored files go through a permission-checked download; provider media keep their URL."""
        if attachment.file:
            path = reverse("api-attachment-download", args=[attachment.id])
            request = self.context.get("request")
            return request.build_absolute_uri(path) if request else path
        return attachment.url


class MessageSerializer(serializers.ModelSerializer):
    author = UserRefSerializer(allow_null=True)
    attachments = AttachmentSerializer(many=True)
    details = serializers.DictField(read_only=True, help_text="Channel facts the desk shows: call, form, twitter, facebook")

    class Meta:
        model = Message
        fields = [
            "id", "direction", "kind", "author", "customer_id", "subject", "text", "html", "is_public", "sent_at",
            "delivery_status", "delivery_error", "attachments", "details",
        ]


class TimelineMessageSerializer(MessageSerializer):
    """A message in the customer's cross-channel history: it also says where it happened."""

    channel = ChannelRefSerializer(source="channel_account")

    class Meta(MessageSerializer.Meta):
        fields = MessageSerializer.Meta.fields + ["conversation_id", "channel"]


# --- input ---------------------------------------------------------------------------------


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)


MESSAGE_CREATE_KINDS = [(Message.Kind.MESSAGE.value, "Reply"), (Message.Kind.NOTE.value, "Internal note")]


class MessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(trim_whitespace=True)
    kind = serializers.ChoiceField(choices=MESSAGE_CREATE_KINDS, default=Message.Kind.MESSAGE)
    public = serializers.BooleanField(required=False, allow_null=True, default=None,
                                      help_text="Replies only: public (e.g. a tweet) or private; default: the conversation's")


# --- views -----------------------------------------------------------------------------------


class ConversationListView(GenericAPIView):
    serializer_class = ConversationSerializer
    pagination_class = ConversationPagination

    @extend_schema(
        summary="Conversations (the inbox)",
        parameters=[
            OpenApiParameter("status", str, description="open, pending, resolved; several comma-separated"),
            OpenApiParameter("channel", str, description="Channel kind: api, email, twitter, facebook, phone, webform"),
            OpenApiParameter("channel_account", int),
            OpenApiParameter("assignee", str, description="A user id, `me` or `none`"),
            OpenApiParameter("team", str, description="A team id or `none`"),
            OpenApiParameter("customer", int),
        ],
        responses=ConversationSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    def get_queryset(self):
        filters = selectors.ConversationFilters.from_query(self.request.query_params)
        return selectors.conversation_list(user=self.request.user, filters=filters)


class ConversationDetailView(APIView):
    @extend_schema(summary="A conversation", responses=ConversationSerializer)
    def get(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        summary="Change status, priority, assignee or team (each change is audited)",
        request=ConversationUpdateSerializer,
        responses=ConversationSerializer,
    )
    def patch(self, request, conversation_id: int):
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = ConversationUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        updated = conversation_update(conversation=conversation, actor=request.user, **data.validated_data)
        return Response(ConversationSerializer(updated).data)


class ConversationMessagesView(GenericAPIView):
    serializer_class = MessageSerializer
    pagination_class = ThreadPagination

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
        data = MessageCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        text, kind, public = data.validated_data["text"], data.validated_data["kind"], data.validated_data["public"]
        if kind == Message.Kind.NOTE:
            message = note_create(conversation=conversation, author=request.user, text=text)
        else:
            message = reply_create(conversation=conversation, author=request.user, text=text, is_public=public)
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

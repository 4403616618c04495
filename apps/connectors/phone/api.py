"""POST /api/customers/<id>/calls/ — an agent logs a call taken on any phone system."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.crm.selectors import customer_get
from apps.inbox.api import MessageSerializer
from apps.inbox.models import Conversation
from apps.inbox.visibility import visible_conversations_q

from .parse import FINAL_STATUSES
from .services import call_log_create


CALL_DIRECTIONS = ["inbound", "outbound"]


class CallLogInputSerializer(serializers.Serializer):
    direction = serializers.ChoiceField(choices=CALL_DIRECTIONS)
    status = serializers.ChoiceField(choices=FINAL_STATUSES)
    duration_seconds = serializers.IntegerField(min_value=0, max_value=7 * 24 * 3600, default=0)
    notes = serializers.CharField(max_length=10_000, allow_blank=True, default="")
    phone = serializers.CharField(
        max_length=64, allow_blank=True, default="", help_text="E.164 or local; default: the customer's number"
    )
    started_at = serializers.DateTimeField(required=False, help_text="Default: now")
    conversation_id = serializers.IntegerField(required=False, help_text="Put the call in this conversation of the customer")


class CustomerCallLogView(APIView):
    @extend_schema(
        summary="Log a call by hand (any phone system): it joins the customer's history and threads like any call",
        request=CallLogInputSerializer,
        responses={201: MessageSerializer, 400: OpenApiResponse(description="invalid number or input"),
                   404: OpenApiResponse(description="customer or conversation not visible")},
    )
    def post(self, request, customer_id: int):
        customer, _ = customer_get(user=request.user, customer_id=customer_id)
        data = CallLogInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        conversation = None
        if "conversation_id" in fields:
            conversation_id = fields.pop("conversation_id")
            conversation = (
                Conversation.objects.filter(visible_conversations_q(request.user), pk=conversation_id, customer=customer)
                .select_related("channel_account").first()
            )
            if conversation is None:
                return Response({"message": "No such conversation for this customer", "extra": {"conversation_id": conversation_id}},
                                status=status.HTTP_404_NOT_FOUND)
        message = call_log_create(customer=customer, user=request.user, conversation=conversation, **fields)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)

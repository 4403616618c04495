"""CSAT in the REST API: a conversation's surveys (who may see the conversation). The figures per
channel, team and agent are report tables: /api/reports/csat-by-channel/ (-team/, -agent/), JSON or CSV."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.inbox import selectors as inbox_selectors

from .models import Survey


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        # Never the token: the link is the customer's, not the desk's.
        fields = ["id", "conversation", "resolution", "channel_kind", "team", "agent", "status", "skip_reason", "skip_detail",
                  "language", "message", "carrier", "expires_at", "score", "comment", "answered_at", "created_at"]
        read_only_fields = fields


class ConversationSurveysView(APIView):
    @extend_schema(
        summary="The satisfaction surveys of a conversation (one per resolution: sent, not sent and why, or answered)",
        responses={200: SurveySerializer(many=True), 404: OpenApiResponse(description="No such conversation, or not yours to see")},
        tags=["csat"],
    )
    def get(self, request, conversation_id: int):
        conversation = inbox_selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        surveys = Survey.objects.filter(conversation=conversation).order_by("-created_at", "-id")[:100]
        return Response(SurveySerializer(surveys, many=True).data)

"""GET /api/conversations/<id>/suggestions/: articles and resolved past cases for the customer's
latest message (docs/suggestions.md). Visible to whoever may see the conversation (else 404)."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.inbox.selectors import conversation_get

from .selectors import suggestions_for


class SuggestedArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    language = serializers.CharField()
    url = serializers.SerializerMethodField(help_text="The public page, absolute (what the customer can open)")
    excerpt = serializers.SerializerMethodField()

    def get_url(self, article) -> str:
        return self.context["request"].build_absolute_uri(article.get_absolute_url())

    def get_excerpt(self, article) -> str:
        return _excerpt(article.body_text)


class SuggestedCaseSerializer(serializers.Serializer):
    conversation_id = serializers.IntegerField(source="conversation.id")
    subject = serializers.CharField(source="conversation.subject")
    customer_name = serializers.CharField(source="conversation.customer.display_name")
    question = serializers.SerializerMethodField(help_text="The customer's message that matched")
    reply = serializers.CharField(source="reply.text", help_text="The agent's reply that resolved it (plain text)")
    replied_at = serializers.DateTimeField(source="reply.sent_at")

    def get_question(self, case) -> str:
        return _excerpt(case.message.text)


class ConversationSuggestionsSerializer(serializers.Serializer):
    message_id = serializers.IntegerField(source="message.id", allow_null=True, default=None,
                                          help_text="The customer's latest message they answer (null: none yet)")
    language = serializers.CharField(help_text="Detected language of that message: es or en")
    articles = SuggestedArticleSerializer(many=True)
    cases = SuggestedCaseSerializer(many=True)


def _excerpt(text: str, length: int = 240) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class ConversationSuggestionsView(APIView):
    @extend_schema(
        summary="Suggested answers: help-center articles and resolved past cases for the customer's latest message",
        description="Articles: published help-center articles in the message's language, with their public URL. "
        "Cases: resolved conversations the user may see where a customer wrote something similar, with the "
        "agent's reply that resolved it. 404 for a conversation the user may not see (as for the conversation).",
        # 403 and 404 are documented for every operation by apps/core/schema.py.
        responses={200: ConversationSuggestionsSerializer},
    )
    def get(self, request, conversation_id: int):
        conversation = conversation_get(user=request.user, conversation_id=conversation_id)
        found = suggestions_for(user=request.user, conversation=conversation)
        return Response(ConversationSuggestionsSerializer(found, context={"request": request}).data)

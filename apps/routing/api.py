"""Priority rules over the API: everyone may read them, supervisors and admins change them."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from apps.accounts.permissions import IsSupervisorOrAdmin

from .models import PriorityRule
from .rules import MAX_KEYWORD_CHARS, MAX_KEYWORDS, keywords_parse
from .services import priority_rule_create, priority_rule_delete, priority_rule_update


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": MAX_KEYWORD_CHARS}, "maxItems": MAX_KEYWORDS})
class KeywordsField(serializers.Field):
    """Stored one per line; the API speaks a list (a string with one per line or commas is accepted)."""

    def to_representation(self, value):
        return [w for w in (value or "").splitlines() if w.strip()]

    def to_internal_value(self, data):
        if isinstance(data, list) and all(isinstance(w, str) for w in data):
            data = "\n".join(data)
        if not isinstance(data, str):
            raise serializers.ValidationError("A list of words or phrases")
        try:
            return "\n".join(keywords_parse(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class PriorityRuleSerializer(serializers.ModelSerializer):
    keywords = KeywordsField(
        required=False,
        help_text="Words and phrases; any of them in the message (subject and text) fires the rule. Accents and "
        "capitals do not matter ('verguenza' finds '¡VERGÜENZA!'); whole words only, a trailing * allows any "
        "ending ('denunciar*'); the spaces of a phrase match any spaces or line breaks. Empty: no word condition.",
    )

    class Meta:
        model = PriorityRule
        fields = ["id", "position", "name", "channel_kind", "is_public", "keywords", "customer_tag", "repeated_contact",
                  "priority", "moderation", "stop", "enabled"]
        extra_kwargs = {
            "priority": {"help_text": "0 Low, 1 Normal, 2 High, 3 Urgent: the conversation starts at the highest "
                                      "priority among the rules that fire. Null: the rule sets no priority."},
            "moderation": {"help_text": "On a PUBLIC comment the rule fires on: 'flag' marks it for moderation; "
                                        "'hide' also hides it on the network where the channel can (Facebook). "
                                        "Never removed from the history."},
            "repeated_contact": {"help_text": "Only when the same customer wrote on two or more channels within 24 hours."},
            "customer_tag": {"help_text": "Only for customers carrying this tag (e.g. 'vip')."},
            "stop": {"help_text": "When this rule fires, later rules are not tried."},
        }


@extend_schema_view(
    list=extend_schema(summary="Priority rules, in order: every rule that fires is a reason; the highest priority wins"),
    create=extend_schema(summary="Add a priority rule (supervisors, admins)"),
    partial_update=extend_schema(summary="Change a priority rule (supervisors, admins)"),
    update=extend_schema(summary="Replace a priority rule (supervisors, admins)"),
    destroy=extend_schema(summary="Delete a priority rule (supervisors, admins)", responses={204: OpenApiTypes.NONE}),
)
class PriorityRuleViewSet(viewsets.ModelViewSet):
    serializer_class = PriorityRuleSerializer
    queryset = PriorityRule.objects.all()
    pagination_class = None

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsSupervisorOrAdmin()]

    def perform_create(self, serializer):
        serializer.instance = priority_rule_create(values=serializer.validated_data, actor=self.request.user)

    def perform_update(self, serializer):
        serializer.instance = priority_rule_update(rule=serializer.instance, values=serializer.validated_data, actor=self.request.user)

    def destroy(self, request, *args, **kwargs):
        priority_rule_delete(rule=self.get_object(), actor=self.request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

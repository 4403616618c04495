"""Priority rules over the API: everyone may read them, supervisors and admins change them."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from apps.accounts.permissions import IsSupervisorOrAdmin

from .models import PriorityRule


class PriorityRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriorityRule
        fields = ["id", "position", "channel_kind", "is_public", "priority", "enabled"]


@extend_schema_view(
    list=extend_schema(summary="Priority rules: the first match sets a new conversation's priority"),
)
class PriorityRuleViewSet(viewsets.ModelViewSet):
    serializer_class = PriorityRuleSerializer
    queryset = PriorityRule.objects.all()
    pagination_class = None

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsSupervisorOrAdmin()]

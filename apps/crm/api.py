"""REST API of customers: search, detail, cross-channel timeline, merge, merge suggestions.

Visibility: an agent sees a customer when at least one of the customer's conversations is
visible to them; anything else answers 404. Merging is open to agents too, for customers
they can both see: merges are audited (CustomerMerge, one event per moved conversation),
and refusing them would push agents to work around duplicates instead.
"""
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApplicationError
from apps.core.keyset import KeysetPagination
from apps.accounts.api import UserRefSerializer
from apps.accounts.permissions import IsSupervisorOrAdmin

from . import selectors
from .models import Customer, CustomerMerge, Identity, MergeSuggestion
from .services import customer_merge, customer_tags_set, merge_suggestion_dismiss


# --- output -----------------------------------------------------------------------------


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField(help_text="As stored: a name, a handle, or the raw id/number when none is known")
    name = serializers.CharField(read_only=True, help_text="As shown (crm/naming.py): never a raw id; a number formatted")
    avatar = serializers.CharField(read_only=True, help_text='"phone" for a customer known by number only, else the initial')


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "kind", "value", "handle", "display_name"]


class CustomerSummarySerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True)

    class Meta:
        model = Customer
        fields = ["id", "display_name", "name", "avatar", "created_at", "identities"]


class CustomerSuggestionSerializer(serializers.Serializer):
    """An open merge suggestion seen from one customer: `other` is the other side."""

    id = serializers.IntegerField()
    other = CustomerRefSerializer(source="counterpart")
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class CustomerDetailSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True)
    open_merge_suggestions = CustomerSuggestionSerializer(many=True, source="suggestions")
    merged_into = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "display_name", "name", "avatar", "created_at", "tags", "identities", "open_merge_suggestions", "merged_into"]

    def get_merged_into(self, customer) -> int | None:
        """Set (to this survivor's id) only when the URL named a customer merged into this one."""
        return customer.id if self.context.get("was_merged") else None


class MergeSuggestionSerializer(serializers.ModelSerializer):
    customer = CustomerRefSerializer()
    other = CustomerRefSerializer()

    class Meta:
        model = MergeSuggestion
        fields = ["id", "customer", "other", "reason", "status", "created_at"]


class CustomerMergeSerializer(serializers.ModelSerializer):
    target = CustomerRefSerializer()
    merged_by = UserRefSerializer(allow_null=True)
    moved = serializers.DictField(child=serializers.IntegerField())

    class Meta:
        model = CustomerMerge
        fields = ["id", "target", "source_id", "source_display_name", "merged_by", "merged_at", "moved"]


class MergeInputSerializer(serializers.Serializer):
    other_id = serializers.IntegerField(help_text="The customer folded into this one (it becomes a tombstone)")


# --- views ------------------------------------------------------------------------------


class CustomerListView(GenericAPIView):
    serializer_class = CustomerSummarySerializer
    pagination_class = KeysetPagination  # newest first

    @extend_schema(
        summary="Customers (search)",
        parameters=[OpenApiParameter("q", str, description="Part of the name, or an exact email, phone, handle or provider id")],
        responses=CustomerSummarySerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CustomerSummarySerializer(page, many=True).data)

    def get_queryset(self):
        qs = selectors.customer_search(user=self.request.user, q=self.request.query_params.get("q", ""))
        return qs.prefetch_related("identities")


class CustomerDetailView(APIView):
    @extend_schema(
        summary="A customer, with identities and open merge suggestions",
        description="The id of a merged customer answers 200 with the survivor's data, and `merged_into` set to "
        "the survivor's id (so clients can update their links). Otherwise `merged_into` is null.",
        responses=CustomerDetailSerializer,
    )
    def get(self, request, customer_id: int):
        customer, was_merged = selectors.customer_get(user=request.user, customer_id=customer_id)
        prefetch_related_objects([customer], "identities")
        customer.suggestions = selectors.merge_suggestions_for(user=request.user, customer=customer)
        return Response(CustomerDetailSerializer(customer, context={"was_merged": was_merged}).data)


class CustomerTagsInputSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20,
                                 help_text="The customer's tags, replacing the current ones (e.g. [\"vip\"]); lowercase")


class CustomerTagsView(APIView):
    def get_permissions(self):
        return [IsSupervisorOrAdmin()]

    @extend_schema(
        summary="Set a customer's tags (supervisors, admins)",
        description="Priority rules (e.g. a 'vip' rule) read them. 404 for a customer the user cannot see.",
        request=CustomerTagsInputSerializer, responses=CustomerDetailSerializer,
    )
    def put(self, request, customer_id: int):
        customer, _ = selectors.customer_get(user=request.user, customer_id=customer_id)
        data = CustomerTagsInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_tags_set(customer=customer, tags=data.validated_data["tags"])
        prefetch_related_objects([customer], "identities")
        customer.suggestions = selectors.merge_suggestions_for(user=request.user, customer=customer)
        return Response(CustomerDetailSerializer(customer).data)


class CustomerMergeView(APIView):
    @extend_schema(
        summary="Merge another customer into this one",
        description="Identities, conversations and messages of `other_id` move here; it stays as a tombstone "
        "whose id resolves to this customer. Both customers must be visible to the user.",
        request=MergeInputSerializer,
        responses={200: CustomerMergeSerializer, 400: OpenApiResponse(description="same or already merged customer")},
    )
    def post(self, request, customer_id: int):
        data = MergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target, target_was_merged = selectors.customer_get(user=request.user, customer_id=customer_id)
        source, source_was_merged = selectors.customer_get(user=request.user, customer_id=data.validated_data["other_id"])
        if target_was_merged or source_was_merged:
            raise ApplicationError(_("One of these customers was already merged"), extra={"survivors": [target.id, source.id]})
        merge = customer_merge(target=target, source=source, actor=request.user)
        return Response(CustomerMergeSerializer(merge).data, status=status.HTTP_200_OK)


class MergeSuggestionListView(GenericAPIView):
    serializer_class = MergeSuggestionSerializer
    pagination_class = KeysetPagination  # newest first

    @extend_schema(
        summary="Merge suggestions",
        parameters=[OpenApiParameter("status", str, enum=[*MergeSuggestion.Status.values, "all"], description="Default: open")],
        responses=MergeSuggestionSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MergeSuggestionSerializer(page, many=True).data)

    def get_queryset(self):
        wanted = self.request.query_params.get("status") or MergeSuggestion.Status.OPEN
        if wanted not in [*MergeSuggestion.Status.values, "all"]:
            raise ApplicationError(_("Unknown status"), extra={"allowed": [*MergeSuggestion.Status.values, "all"]})
        return selectors.merge_suggestion_list(user=self.request.user, status=None if wanted == "all" else wanted)


class MergeSuggestionDismissView(APIView):
    @extend_schema(
        summary="Dismiss a merge suggestion (two different people)",
        request=None,
        responses={200: MergeSuggestionSerializer, 409: OpenApiResponse(description="no longer open (merged or dismissed already)")},
    )
    def post(self, request, suggestion_id: int):
        suggestion = selectors.merge_suggestion_get(user=request.user, suggestion_id=suggestion_id)
        dismissed = merge_suggestion_dismiss(suggestion=suggestion, actor=request.user)
        return Response(MergeSuggestionSerializer(selectors.merge_suggestion_get(user=request.user, suggestion_id=dismissed.id)).data)

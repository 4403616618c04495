"""Business-hours calendars and SLA policies over the API: everyone signed in may read them,
supervisors and admins change them (through apps/sla/services.py)."""
from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response

from apps.accounts.models import Team
from apps.accounts.permissions import IsSupervisorOrAdmin

from . import services
from .models import BusinessCalendar, CalendarClosure, CalendarPeriod, Escalation, SlaPolicy
from .worktime import public_holidays

MAX_PERIODS = 50
MAX_CLOSURES = 500


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarPeriod
        fields = ["weekday", "start", "end"]


class ClosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarClosure
        fields = ["name", "date_from", "date_to", "start", "end"]


class HolidaySerializer(serializers.Serializer):
    date = serializers.DateField()
    name = serializers.CharField()


class CalendarSerializer(serializers.ModelSerializer):
    periods = PeriodSerializer(many=True, required=False)
    closures = ClosureSerializer(many=True, required=False)
    upcoming_holidays = serializers.SerializerMethodField()

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "time_zone", "always_open", "holiday_country", "holiday_subdivision", "periods", "closures",
                  "upcoming_holidays", "updated_at"]
        read_only_fields = ["updated_at"]

    def validate_periods(self, value):
        if len(value) > MAX_PERIODS:
            raise serializers.ValidationError(f"At most {MAX_PERIODS} periods")
        return value

    def validate_closures(self, value):
        if len(value) > MAX_CLOSURES:
            raise serializers.ValidationError(f"At most {MAX_CLOSURES} closures")
        return value

    @extend_schema_field(HolidaySerializer(many=True))
    def get_upcoming_holidays(self, calendar) -> list[dict]:
        """The next public holidays (country and region) of the coming year, for a check at a glance."""
        if not calendar.holiday_country or calendar.always_open:
            return []
        today = timezone.localdate()
        days = {}
        for year in (today.year, today.year + 1):
            days.update(public_holidays(calendar.holiday_country, calendar.holiday_subdivision, year))
        horizon = today + timedelta(days=366)
        return [{"date": d, "name": n} for d, n in sorted(days.items()) if today <= d <= horizon][:20]

    def create(self, validated):
        return services.calendar_save(actor=self.context["request"].user, **validated)

    def update(self, calendar, validated):
        return services.calendar_save(calendar=calendar, actor=self.context["request"].user, **validated)


class PolicySerializer(serializers.ModelSerializer):
    calendar = serializers.PrimaryKeyRelatedField(queryset=BusinessCalendar.objects.all())
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), allow_null=True, required=False)
    escalation = serializers.ChoiceField(choices=Escalation.choices, default=Escalation.NOTIFY)

    class Meta:
        model = SlaPolicy
        fields = ["id", "name", "position", "enabled", "calendar", "channel_kind", "team", "priority", "tag",
                  "first_response_minutes", "next_response_minutes", "resolution_minutes", "warning_percent", "escalation",
                  "updated_at"]
        read_only_fields = ["updated_at"]

    def validate_tag(self, value):
        return value.strip().lower()

    def create(self, validated):
        return services.policy_save(actor=self.context["request"].user, **validated)

    def update(self, policy, validated):
        return services.policy_save(policy=policy, actor=self.context["request"].user, **validated)


class _SupervisorsWrite:
    pagination_class = None

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [IsAuthenticated()]
        return [IsSupervisorOrAdmin()]


@extend_schema_view(
    list=extend_schema(summary="Business-hours calendars (time zone, weekly periods, holidays, closures)"),
    create=extend_schema(summary="Create a calendar (supervisors and admins)"),
    partial_update=extend_schema(summary="Change a calendar; periods and closures, when given, replace the lists"),
    destroy=extend_schema(summary="Delete a calendar no policy uses (409 otherwise)",
                          responses={204: None, 409: OpenApiResponse(description="Policies use this calendar")}),
)
class CalendarViewSet(_SupervisorsWrite, viewsets.ModelViewSet):
    serializer_class = CalendarSerializer
    queryset = BusinessCalendar.objects.prefetch_related("periods", "closures")

    def destroy(self, request, *args, **kwargs):
        services.calendar_delete(calendar=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="SLA policies: the first enabled match (channel, team, priority, tag) applies"),
    create=extend_schema(summary="Create a policy (supervisors and admins)"),
    partial_update=extend_schema(summary="Change a policy (conversations take it at their next change)"),
    destroy=extend_schema(summary="Delete a policy"),
)
class PolicyViewSet(_SupervisorsWrite, viewsets.ModelViewSet):
    serializer_class = PolicySerializer
    queryset = SlaPolicy.objects.all()

    def destroy(self, request, *args, **kwargs):
        services.policy_delete(policy=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

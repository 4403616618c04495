"""Admin-only REST API for the desk's people and teams (agents and supervisors get 403).

Invitations mail a one-time set-password link; nobody, not even an admin, ever sets or sees
another user's password here. Every change lands in the audit log (GET /api/audit/).
"""
from django.conf import settings
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.net import client_ip

from . import services
from .api import TeamRefSerializer
from .models import Role, Team, User
from .permissions import IsDeskAdmin


def base_url(request) -> str:
    """Where mailed links point: PUBLIC_BASE_URL behind a proxy, else the host the admin used."""
    return settings.PUBLIC_BASE_URL or request.build_absolute_uri("/")


def users_for_admin():
    return User.objects.prefetch_related(Prefetch("teams", queryset=Team.objects.order_by("name"))).order_by("username")


class TeamSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Team
        fields = ["id", "name", "created_at", "member_count"]


class AdminUserSerializer(serializers.ModelSerializer):
    teams = TeamRefSerializer(many=True, read_only=True)
    invitation_pending = serializers.SerializerMethodField(help_text="Invited and has not chosen a password yet")

    class Meta:
        model = User
        fields = ["id", "username", "email", "first_name", "last_name", "role", "teams", "is_active",
                  "invitation_pending", "last_login", "date_joined"]

    def get_invitation_pending(self, user) -> bool:
        return not user.has_usable_password()


class _TeamIds(serializers.ListField):
    child = serializers.IntegerField()

    def to_internal_value(self, data):
        ids = super().to_internal_value(data)
        teams = list(Team.objects.filter(pk__in=ids))
        if len(teams) != len(set(ids)):
            raise serializers.ValidationError("Unknown team id")
        return teams


class UserInviteSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.AGENT)
    team_ids = _TeamIds(required=False, default=list)
    first_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)


class UserUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    team_ids = _TeamIds(required=False)
    email = serializers.EmailField(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)


class TeamInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class AdminView(APIView):
    permission_classes = [IsDeskAdmin]


class UserListView(AdminView):
    @extend_schema(summary="Every user with role, teams and status (admins)", responses=AdminUserSerializer(many=True))
    def get(self, request):
        return Response(AdminUserSerializer(users_for_admin(), many=True).data)

    @extend_schema(
        summary="Invite a user (admins): created without a password, mailed a set-password link",
        request=UserInviteSerializer, responses={201: AdminUserSerializer, 409: OpenApiResponse(description="That username is taken")},
    )
    def post(self, request):
        data = UserInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = services.user_invite(
            actor=request.user, username=v["username"], email=v["email"], role=v["role"], teams=v["team_ids"],
            first_name=v["first_name"], last_name=v["last_name"], base_url=base_url(request), ip=client_ip(request),
        )
        return Response(AdminUserSerializer(users_for_admin().get(pk=user.pk)).data, status=status.HTTP_201_CREATED)


class UserDetailView(AdminView):
    @extend_schema(summary="A user (admins)", responses=AdminUserSerializer)
    def get(self, request, user_id: int):
        return Response(AdminUserSerializer(get_object_or_404(users_for_admin(), pk=user_id)).data)

    @extend_schema(summary="Change a user's role, teams, email or name (admins; audited)",
                   request=UserUpdateSerializer,
                   responses={200: AdminUserSerializer, 409: OpenApiResponse(description="The last active admin would lose the role")})
    def patch(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        data = UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "team_ids" in changes:
            changes["teams"] = changes.pop("team_ids")
        services.user_update(actor=request.user, user=user, ip=client_ip(request), **changes)
        return Response(AdminUserSerializer(users_for_admin().get(pk=user.pk)).data)


class UserDeactivateView(AdminView):
    @extend_schema(
        summary="Deactivate a user (admins): no more sign-ins; their open work returns to the queue",
        request=None,
        responses={200: inline_serializer("UserDeactivated", {
            "user": AdminUserSerializer(), "released_conversations": serializers.ListField(child=serializers.IntegerField()),
        }), 409: OpenApiResponse(description="Already inactive, yourself, or the last active admin")},
    )
    def post(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        summary = services.user_deactivate(actor=request.user, user=user, ip=client_ip(request))
        return Response({"user": AdminUserSerializer(users_for_admin().get(pk=user.pk)).data,
                         "released_conversations": summary.get("released_conversations", [])})


class UserReactivateView(AdminView):
    @extend_schema(summary="Reactivate a user (admins)", request=None,
                   responses={200: AdminUserSerializer, 409: OpenApiResponse(description="Already active")})
    def post(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        services.user_reactivate(actor=request.user, user=user, ip=client_ip(request))
        return Response(AdminUserSerializer(users_for_admin().get(pk=user.pk)).data)


class UserPasswordResetView(AdminView):
    @extend_schema(summary="Mail a user a link to choose a new password (admins)", request=None,
                   responses={202: None, 409: OpenApiResponse(description="No active account with an email address")})
    def post(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        services.user_password_reset_send(actor=request.user, user=user, base_url=base_url(request), ip=client_ip(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class TeamListView(AdminView):
    @extend_schema(summary="Teams with their head count (admins)", responses=TeamSerializer(many=True))
    def get(self, request):
        from django.db.models import Count

        teams = Team.objects.annotate(member_count=Count("members")).order_by("name")
        return Response(TeamSerializer(teams, many=True).data)

    @extend_schema(summary="Create a team (admins)", request=TeamInputSerializer,
                   responses={201: TeamSerializer, 409: OpenApiResponse(description="A team with that name exists")})
    def post(self, request):
        data = TeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, name=data.validated_data["name"], ip=client_ip(request))
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailView(AdminView):
    @extend_schema(summary="Rename a team (admins)", request=TeamInputSerializer,
                   responses={200: TeamSerializer, 409: OpenApiResponse(description="A team with that name exists")})
    def patch(self, request, team_id: int):
        team = get_object_or_404(Team, pk=team_id)
        data = TeamInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_rename(actor=request.user, team=team, name=data.validated_data["name"], ip=client_ip(request))
        return Response(TeamSerializer(team).data)

    @extend_schema(summary="Delete a team (admins): its conversations and channels keep their rows, without a team",
                   responses={204: None})
    def delete(self, request, team_id: int):
        team = get_object_or_404(Team, pk=team_id)
        services.team_delete(actor=request.user, team=team, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

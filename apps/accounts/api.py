"""GET /api/me/: who is signed in, with role and teams (the browser's first call).
GET /api/agents/: supervisors' view of the desk's people, with presence and load."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Team, User
from .permissions import IsSupervisorOrAdmin
from .selectors import agents_with_presence


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class UserRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username"]


class MeSerializer(serializers.ModelSerializer):
    teams = TeamRefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "role", "teams"]


class MeView(APIView):
    @extend_schema(responses=MeSerializer, summary="The signed-in user")
    def get(self, request):
        user = User.objects.prefetch_related("teams").get(pk=request.user.pk)
        return Response(MeSerializer(user).data)


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
        return Response(AgentSerializer(agents_with_presence(), many=True).data)

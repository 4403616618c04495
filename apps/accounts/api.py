"""GET /api/me/: who is signed in, with role and teams (the browser's first call).
(GET /api/agents/, the desk's people with presence and load, is the inbox's: apps/inbox/api.py.)"""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import Team, User


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

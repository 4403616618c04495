"""POST /api/messages/<id>/hide/ — hide a customer's comment on the Facebook Page (moderation)."""
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.inbox.api import MessageSerializer
from apps.inbox.selectors import message_get

from .services import comment_hide


class CommentHideView(APIView):
    @extend_schema(
        summary="Hide a Facebook comment on the Page",
        description="Hidden on Facebook for everyone but its author and their friends; kept in the desk with "
        "details.facebook.hidden = true. 404 when the user cannot see the conversation.",
        request=None,
        responses={200: MessageSerializer, 400: OpenApiResponse(description="not a Facebook comment"),
                   502: OpenApiResponse(description="Facebook refused"), 503: OpenApiResponse(description="try again later")},
    )
    def post(self, request, message_id: int):
        message = message_get(user=request.user, message_id=message_id)
        hidden = comment_hide(message=message, actor=request.user)
        return Response(MessageSerializer(hidden, context={"request": request}).data)

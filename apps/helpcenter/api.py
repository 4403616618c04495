"""/api/help/...: articles over the REST API (the same services as the desk pages), and the
suggestions the push (API) channel asks for with its account token.

Reading and writing drafts: any desk user; publishing, changing a published article, deleting:
supervisors and admins (the service refuses with 403 otherwise).
"""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.connectors.models import ChannelAccount, ChannelKind
from apps.connectors.push.views import _token_ok as push_token_ok  # the push channel's one token check
from apps.connectors.webform.services import rate_limit_hit
from apps.core.errors import ApplicationError

from . import selectors, services
from .models import Article, Category, DeflectionEvent, Language


class ArticleSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The public page (answers only once published).")
    translation_id = serializers.SerializerMethodField(help_text="The other language's version, if any.")
    author = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = ["id", "language", "title", "slug", "body", "status", "category", "translation_id", "author", "url",
                  "created_at", "updated_at", "published_at"]

    def get_url(self, obj) -> str:
        return obj.get_absolute_url()

    def get_translation_id(self, obj) -> int | None:
        other = self.context.get("translations", {}).get(obj.pk, "?")
        if other == "?":
            t = selectors.article_translation(obj, published_only=False)
            return t.pk if t else None
        return other

    def get_author(self, obj) -> str | None:
        return obj.author.username if obj.author_id else None


class ArticleWriteSerializer(serializers.Serializer):
    language = serializers.ChoiceField(choices=Language.choices)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=services.MAX_BODY_CHARS,
                                 help_text="HTML; sanitized on save (nh3, as inbound mail).")
    slug = serializers.SlugField(required=False, allow_blank=True, max_length=200)
    status = serializers.ChoiceField(choices=Article.Status.choices, required=False,
                                     help_text="published: supervisors and admins only.")
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    translation_of = serializers.PrimaryKeyRelatedField(queryset=Article.objects.all(), required=False, allow_null=True,
                                                        help_text="The article this one translates (the other language).")


class ArticleUpdateSerializer(ArticleWriteSerializer):
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)


class SuggestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    language = serializers.CharField()
    url = serializers.CharField()
    excerpt = serializers.CharField()


class SuggestionsSerializer(serializers.Serializer):
    articles = SuggestionSerializer(many=True)


def _service(call):
    try:
        return call()
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from exc
        raise


LIST_LIMIT = 200


class ArticleListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Help-center articles (newest change first, at most 200; drafts included)",
        parameters=[OpenApiParameter("language", str, enum=Language.values), OpenApiParameter("status", str, enum=Article.Status.values),
                    OpenApiParameter("q", str, description="Search (full text and typos on PostgreSQL)")],
        responses={200: ArticleSerializer(many=True)}, tags=["help center"],
    )
    def get(self, request):
        language = request.query_params.get("language") or None
        state = request.query_params.get("status") or None
        if language not in (None, *Language.values) or state not in (None, *Article.Status.values):
            raise ApplicationError("language must be es or en; status draft or published")
        q = request.query_params.get("q", "")[:200]
        if q.strip():
            articles = selectors.articles_search(q, language=language, limit=50, published_only=False)
            articles = [a for a in articles if not state or a.status == state]
        else:
            articles = selectors.desk_articles(language=language, status=state, limit=LIST_LIMIT, with_body=True)
        data = ArticleSerializer(articles, many=True, context={"translations": selectors.translations_of(articles)}).data
        return Response(data)

    @extend_schema(summary="Write an article (drafts: anyone; published: supervisors and admins)",
                   request=ArticleWriteSerializer, responses={201: ArticleSerializer}, tags=["help center"])
    def post(self, request):
        s = ArticleWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        article = _service(lambda: services.article_create(
            author=request.user, language=d["language"], title=d["title"], body=d.get("body", ""), slug=d.get("slug", ""),
            status=d.get("status", Article.Status.DRAFT), category=d.get("category"), translation_of=d.get("translation_of"),
        ))
        return Response(ArticleSerializer(article).data, status=status.HTTP_201_CREATED)


class ArticleDetailView(APIView):
    permission_classes = [IsAuthenticated]

    def _get(self, article_id):
        article = Article.objects.select_related("author").filter(pk=article_id).first()
        if article is None:
            raise ApplicationError("No such article", status_code=404)
        return article

    @extend_schema(summary="One article", responses={200: ArticleSerializer}, tags=["help center"])
    def get(self, request, article_id: int):
        return Response(ArticleSerializer(self._get(article_id)).data)

    @extend_schema(summary="Change an article (a published one, or publishing: supervisors and admins)",
                   request=ArticleUpdateSerializer, responses={200: ArticleSerializer}, tags=["help center"])
    def patch(self, request, article_id: int):
        article = self._get(article_id)
        s = ArticleUpdateSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        article = _service(lambda: services.article_update(article=article, actor=request.user, **s.validated_data))
        return Response(ArticleSerializer(article).data)

    @extend_schema(summary="Delete an article (supervisors and admins)", responses={204: OpenApiTypes.NONE}, tags=["help center"])
    def delete(self, request, article_id: int):
        article = self._get(article_id)
        _service(lambda: services.article_delete(article=article, actor=request.user))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PushSuggestView(APIView):
    """The push (API) channel's client asks what to suggest before it sends a message."""

    authentication_classes = []  # the push account's inbound token, not a user session
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Suggested articles for a customer's text (push channel; Bearer <account inbound token>)",
        description="Published articles matching q, one version per article, the lang version first. With visit "
        "(a UUID the caller makes per customer session) the suggestions shown are counted for the deflection rate; "
        "report an opened article or a message sent anyway with POST /help/events/.",
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("lang", str, enum=Language.values),
                    OpenApiParameter("visit", OpenApiTypes.UUID)],
        responses={200: SuggestionsSerializer, 400: OpenApiResponse(description="bad parameters"),
                   401: OpenApiResponse(description="unknown account or bad token"),
                   403: OpenApiResponse(description="the account is disabled"),
                   429: OpenApiResponse(description="too many requests")},
        tags=["help center"], auth=[],
    )
    def get(self, request, account_id: int):
        account = ChannelAccount.objects.filter(pk=account_id, kind=ChannelKind.PUSH).only("id", "kind", "enabled", "inbound_token_hash").first()
        if account is None or not push_token_ok(request, account):
            return Response({"message": "Unknown account or invalid token", "extra": {}}, status=status.HTTP_401_UNAUTHORIZED)
        if not account.enabled:
            return Response({"message": "This channel account is disabled", "extra": {}}, status=status.HTTP_403_FORBIDDEN)
        if rate_limit_hit(scope="help-suggest-api", subject=str(account.pk), rate="600/10m"):
            return Response({"message": "Too many requests", "extra": {}}, status=status.HTTP_429_TOO_MANY_REQUESTS)
        q = request.query_params.get("q", "")[:200]
        lang = request.query_params.get("lang") or None
        visit = request.query_params.get("visit") or None
        if lang not in (None, *Language.values):
            return Response({"message": "lang must be es or en", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
        try:
            visit = serializers.UUIDField().to_internal_value(visit) if visit else None
        except serializers.ValidationError:
            return Response({"message": "visit must be a UUID", "extra": {}}, status=status.HTTP_400_BAD_REQUEST)
        articles = selectors.suggestions(q, language=lang, limit=5)
        if visit and articles:
            services.deflection_shown(visit=visit, articles=articles, query=q, source=DeflectionEvent.Source.API)
        return Response({"articles": [
            {"id": a.id, "title": a.title, "language": a.language, "url": request.build_absolute_uri(a.get_absolute_url()),
             "excerpt": " ".join(a.body_text.split())[:140]} for a in articles]})

"""/api/help/..., included from config/api_urls.py."""
from django.urls import path

from . import api

urlpatterns = [
    path("help/articles/", api.ArticleListView.as_view(), name="api-help-articles"),
    path("help/articles/<int:article_id>/", api.ArticleDetailView.as_view(), name="api-help-article"),
    path("help/suggest/<int:account_id>/", api.PushSuggestView.as_view(), name="api-help-suggest"),
]

"""/desk/help/...: writing articles (every desk user) and the topics without an article (supervisors)."""
from django.urls import path

from . import desk_views

urlpatterns = [
    path("", desk_views.article_list, name="help-articles"),
    path("new/", desk_views.article_new, name="help-article-new"),
    path("topics/", desk_views.topics_page, name="help-topics"),
    path("<int:article_id>/", desk_views.article_edit, name="help-article-edit"),
]

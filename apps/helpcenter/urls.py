"""The public help center under /help/ (no login): included from config/urls.py."""
from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .sitemaps import ArticleSitemap

app_name = "helpcenter"

urlpatterns = [
    path("", views.help_root, name="root"),
    path("embed/", views.help_embed, name="embed"),
    path("sitemap.xml", sitemap, {"sitemaps": {"articles": ArticleSitemap}}, name="sitemap"),
    path("suggest/", views.suggest, name="suggest"),  # JSON for the web form's deflection script
    path("events/", views.deflection_event, name="events"),  # what the visitor saw / opened / sent
    path("<str:lang>/", views.help_home, name="home"),
    path("<str:lang>/a/<slug:slug>/", views.article_page, name="article"),
    path("<str:lang>/<slug:slug>/", views.category_page, name="category"),
]

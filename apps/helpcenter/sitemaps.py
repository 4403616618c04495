"""sitemap.xml of the published articles (both languages), /help/sitemap.xml."""
from django.contrib.sitemaps import Sitemap

from .models import Article


class ArticleSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.6
    limit = 5000

    def items(self):
        return Article.objects.filter(status=Article.Status.PUBLISHED).only("language", "slug", "updated_at").order_by("id")

    def lastmod(self, article):
        return article.updated_at

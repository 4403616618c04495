"""Topics without an article: the reports' frequent questions, each with the articles that answer it."""
from dataclasses import replace

import pytest
from django.core.cache import cache
from django.test import Client

from apps.reports.selectors import report_filters
from apps.reports.topics import CACHE_PREFIX


def _topic(n, terms, messages):
    return {"topic": n, "label": ", ".join(terms), "terms": terms, "messages": messages, "conversations": messages - 1,
            "previous_messages": 0, "trend_pct": None, "channels": [], "peak_hours": [], "hours": [0] * 24, "examples": []}


@pytest.mark.django_db
def test_supervisors_see_which_frequent_questions_have_no_article(supervisor, shop):
    # given the reports' topics of the last 30 days (computed by their Celery task, cached)
    f = replace(report_filters(user=supervisor, params={}), bucket="day")
    cache.set(CACHE_PREFIX + f.key(), {"status": "ready", "topics": [
        _topic(1, ["refund", "return"], 40), _topic(2, ["invoice", "company"], 25), _topic(3, ["contraseña", "acceder"], 12),
    ]}, 60)
    client = Client()
    client.force_login(supervisor)
    # when the supervisor opens the page
    html = client.get("/desk/help/topics/").content.decode()
    # then the refund and password topics show their articles, the invoice one a "write" link prefilled
    covered = html.split('data-topic="1"')[1].split("</tr>")[0]
    assert "Returns and refunds" in covered and "No article" not in covered
    assert "Restablecer la contraseña" in html.split('data-topic="3"')[1].split("</tr>")[0]
    missing = html.split('data-topic="2"')[1].split("</tr>")[0]
    assert 'class="uncovered"' in html and "No article" in missing
    assert 'href="/desk/help/new/?title=Invoice%2C+company"' in missing
    cache.delete(CACHE_PREFIX + f.key())

"""Frequent questions: a labelled mix of Spanish and English messages falls into one topic per question."""
import itertools
from collections import Counter, defaultdict
from datetime import date

import pytest

from apps.reports import topics
from apps.reports.selectors import ReportFilters
from tests.builders import cache_clear, client_for

from .conftest import MADRID, at

LABELLED = {
    "delivery": [
        "Hola, mi pedido no ha llegado todavía", "My order has not arrived yet", "¿Dónde está mi pedido? No ha llegado",
        "The order still has not arrived, it is late", "Mi pedido lleva una semana de retraso y no llega",
        "Where is my order? It has not arrived", "El pedido número 4411 no ha llegado", "Order 5120 has not arrived, delivery is late",
    ],
    "refund": [
        "Quiero un reembolso de mi compra", "Where is my refund? It has been two weeks", "¿Cuándo recibiré el reembolso?",
        "I am still waiting for my refund", "Solicito el reembolso del dinero", "Please send me the refund for the return",
        "No he recibido el reembolso de la devolución", "Refund not received after the return",
    ],
    "password": [
        "No puedo restablecer mi contraseña", "I forgot my password, how do I reset it?", "Olvidé la contraseña de mi cuenta",
        "Password reset link does not work", "¿Cómo cambio la contraseña?", "I need to reset the password of my account",
        "El enlace para restablecer la contraseña no funciona", "Cannot reset my password",
    ],
}


def test_the_same_question_in_spanish_and_english_is_one_topic():
    texts, labels = [], []
    for label, messages in LABELLED.items():
        for text in messages:
            texts.append(text)
            labels.append(label)
    model, clusters, _ = topics.cluster_texts(texts, max_topics=6)
    by_label = defaultdict(Counter)
    for label, cluster in zip(labels, clusters):
        by_label[label][cluster] += 1
    # Spanish and English together: no topic mixes two questions, and delivery delays and password
    # resets are one topic each. Refunds may split into sub-topics ("refund for a return",
    # "refund late"), never mixed with another question (here they do not: the next test holds
    # every question to exactly one topic).
    for label, counter in by_label.items():
        for cluster in counter:
            assert all(cluster not in other for other_label, other in by_label.items() if other_label != label)
    assert len(by_label["delivery"]) == 1 and len(by_label["password"]) == 1
    assert max(by_label["refund"].values()) >= 3
    languages = {label: {("es" if any(ch in t for ch in "áéíóúñ¿") or " mi " in f" {t} " or t.startswith(("Quiero", "Solicito", "No ", "El ", "Olvid")) else "en") for t in LABELLED[label]} for label in by_label}
    assert languages["delivery"] == {"es", "en"} and languages["password"] == {"es", "en"}
    terms = {label: [t for c in counter for t in model["terms"][c]] for label, counter in by_label.items()}
    assert "refund" in terms["refund"] and "password" in terms["password"] and "order" in terms["delivery"]


INVOICE = [
    "Necesito la factura de mi compra", "Can you send me the invoice for my purchase?", "No encuentro la factura del mes",
    "The invoice has the wrong amount", "La factura tiene un importe incorrecto", "I need an invoice with my company details",
    "¿Me pueden enviar la factura por correo?", "Please email me the invoice",
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_the_desk_s_own_limit_each_question_is_exactly_one_topic(settings, seed):
    """The desk's default limit (REPORTS_TOPICS_MAX, 12), four questions asked in both languages:
    four topics, each holding every message of one question, whatever k-means' random start."""
    questions = {**LABELLED, "invoice": INVOICE}
    texts = [t for messages in questions.values() for t in messages]
    labels = [label for label, messages in questions.items() for _ in messages]
    model, clusters, _ = topics.cluster_texts(texts, max_topics=settings.REPORTS_TOPICS_MAX, seed=seed)
    topic_of = {label: {c for other, c in zip(labels, clusters) if other == label} for label in questions}
    assert all(len(found) == 1 for found in topic_of.values()), topic_of
    assert len({next(iter(found)) for found in topic_of.values()}) == 4 == model["kmeans"].n_clusters
    terms = {label: model["terms"][next(iter(found))] for label, found in topic_of.items()}
    assert "invoice" in terms["invoice"] and "refund" in terms["refund"] and "password" in terms["password"]


def test_a_small_sample_is_cut_into_few_topics():
    # sqrt(n / 2), at least 3: a handful of messages cannot make a dozen one-message "topics"
    assert [topics.topics_most(n) for n in (6, 24, 32, 200, 20_000)] == [3, 3, 4, 10, 100]


@pytest.mark.postgres
def test_the_task_computes_counts_trend_examples_channels_and_hours(madrid, make_user, make_account, inbound, eager_celery):
    from django.core.cache import cache

    from apps.accounts.models import Role
    from apps.inbox.services.ingest import messages_ingest

    account = make_account()
    n = itertools.count()
    batch = []
    # previous week: 2 refund questions; this week: 4 refund, 3 delivery, 3 password (Madrid hour 10, 11, 12)
    for text in LABELLED["refund"][:2]:
        batch.append(inbound(account, email=f"p{next(n)}@example.com", sent_at=at(10, 10), text=text))
    for hour, label, count in ((10, "refund", 4), (11, "delivery", 3), (12, "password", 3)):
        for text in LABELLED[label][:count]:
            batch.append(inbound(account, email=f"p{next(n)}@example.com", sent_at=at(17, hour), text=text))
    messages_ingest(messages=batch)
    cache_clear()
    supervisor = make_user(role=Role.SUPERVISOR)
    response = client_for(supervisor).get("/api/reports/topics/", {"start": "2026-11-16", "end": "2026-11-22"})
    assert response.status_code == 200  # eager: computed by the task during the request, then cached
    body = response.json()
    assert body["status"] == "ready" and body["messages_sampled"] == 10
    by_size = {t["messages"]: t for t in body["topics"]}
    refund = by_size[4]
    assert "refund" in refund["terms"]
    assert (refund["previous_messages"], refund["trend_pct"]) == (2, 100.0)
    assert refund["peak_hours"] == [10] and refund["channels"][0]["messages"] == 4
    assert len(refund["examples"]) == 3 and refund["examples"][0]["url"].startswith("/c/")
    assert sum(t["messages"] for t in body["topics"]) == 10
    csv_text = client_for(supervisor).get("/api/reports/topics/", {"start": "2026-11-16", "end": "2026-11-22", "format": "csv"}).content.decode()
    assert csv_text.splitlines()[0].startswith("Topic,Top words,Messages (messages)")
    # cached: the same filters again do not recompute
    assert cache.get(topics.CACHE_PREFIX + ReportFilters(start=date(2026, 11, 16), end=date(2026, 11, 22), tz=MADRID).key()) is not None

"""Frequent questions: what customers ask about most in a period (scikit-learn, run by Celery).

Method (docs/supervisors.md explains it for supervisors):
1. Sample: the period's inbound customer messages (text only), at most
   REPORTS_TOPICS_MAX_MESSAGES, taken evenly over the period (every k-th by id), one SQL query.
2. Normalize: lower case, accents stripped (TfidfVectorizer strip_accents="unicode"), English
   stop words (scikit-learn's list) and Spanish ones (stopwords_es.txt, from the Snowball
   project's list), numbers and order references dropped; a small glossary maps common Spanish
   support words onto English ones (pedido -> order, reembolso -> refund, contraseña ->
   password ...) so the same question asked in either language lands in one topic; then each
   word is reduced to its stem (snowballstemmer: English, or Spanish for a message that uses
   more Spanish stop words), so "arrived" and "arrive", "recibido" and "recibiré" count as one.
3. TF-IDF on words and word pairs (min_df 2, sublinear tf), reduced with TruncatedSVD (LSA) and
   L2-normalized, clustered with KMeans; the number of topics is the one with the best
   silhouette score between 2 and the smaller of REPORTS_TOPICS_MAX and sqrt(n / 2) for n
   messages (at least 3): the usual rule of thumb for k, which keeps a small sample from being
   cut into one-message "topics" (the silhouette keeps rising as clusters approach single points).
4. Each topic: its top terms (highest mean TF-IDF in the cluster), message and conversation
   counts, the previous period of the same length assigned to the same topics (predict) for the
   trend, example conversations (the messages nearest the centre), the channel split and the
   busiest hours (company time zone).
The result is cached (REPORTS_TOPICS_CACHE_SECONDS) under the filters' key.
"""
import math
import re
import unicodedata
from collections import Counter
from dataclasses import replace
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from .selectors import ReportFilters, _channel, _inbound

COMPUTE_TASK = "apps.reports.tasks.topics_compute"  # named, not imported: tasks.py runs topics_compute

CACHE_PREFIX = "reports:topics:"
STATUS_PREFIX = "reports:topics-running:"
_TOKEN = re.compile(r"(?u)\b[^\W\d_]{3,}\b")  # words of 3+ letters: numbers and refs drop out

# Spanish support vocabulary -> the English word the same question uses (after accents are stripped).
GLOSSARY = {
    "pedido": "order", "pedidos": "order", "orden": "order", "compra": "purchase",
    "llegado": "arrive", "llega": "arrive", "llegar": "arrive", "llegó": "arrive", "llego": "arrive",
    "entrega": "delivery", "envio": "delivery", "envío": "delivery", "paquete": "package", "repartidor": "courier",
    "retraso": "delay", "retrasado": "delay", "tarde": "late", "todavia": "yet", "todavía": "yet", "aun": "yet",
    "reembolso": "refund", "devolucion": "return", "devolución": "return", "devolver": "return", "dinero": "money",
    "contrasena": "password", "contraseña": "password", "clave": "password", "restablecer": "reset",
    "recuperar": "reset", "cambiar": "change", "olvide": "forgot", "olvidé": "forgot", "acceder": "login",
    "entrar": "login", "sesion": "login", "sesión": "login", "cuenta": "account",
    "factura": "invoice", "facturas": "invoice", "importe": "amount", "cobro": "charge", "cobrado": "charged",
    "cancelar": "cancel", "suscripcion": "subscription", "suscripción": "subscription", "baja": "cancel",
    "roto": "damaged", "rota": "damaged", "danado": "damaged", "dañado": "damaged", "defectuoso": "damaged",
    "direccion": "address", "dirección": "address", "semana": "week", "semanas": "week", "dias": "days", "días": "days",
    "correo": "email", "enlace": "link",
}


def _spanish_stop_words() -> set[str]:
    lines = Path(__file__).with_name("stopwords_es.txt").read_text(encoding="utf-8").splitlines()
    words = [w for line in lines if not line.startswith("#") for w in line.split()]
    return {_strip_accents(w) for w in words}


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _analyzer_parts(surfaces: dict):
    """The tokenizer: words -> glossary -> stop words -> stems; `surfaces` collects, per stem,
    the words it came from (topic labels show the commonest one, not the stem)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    import snowballstemmer

    english_stop, spanish_stop = set(ENGLISH_STOP_WORDS), _spanish_stop_words()
    stop = english_stop | spanish_stop
    glossary = {_strip_accents(k): v for k, v in GLOSSARY.items()}
    stem_en, stem_es = snowballstemmer.stemmer("english"), snowballstemmer.stemmer("spanish")

    def tokenize(text: str) -> list[str]:
        words = _TOKEN.findall(text)
        # The message's language: whichever stop-word list it uses more (ties: English).
        spanish = sum(w in spanish_stop for w in words) > sum(w in english_stop for w in words)
        out = []
        for w in words:
            if w in glossary:
                word, stem = glossary[w], stem_en.stemWord(glossary[w])  # the English word the glossary gives
            elif w not in stop:
                word, stem = w, (stem_es if spanish else stem_en).stemWord(w)
            else:
                continue
            surfaces.setdefault(stem, Counter())[word] += 1
            out.append(stem)
        return out

    return tokenize


def _vectorizer(surfaces: dict):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        lowercase=True, strip_accents="unicode", tokenizer=_analyzer_parts(surfaces), token_pattern=None,
        ngram_range=(1, 2), min_df=2, max_df=0.5, sublinear_tf=True,
    )


def topics_most(messages: int) -> int:
    """The most topics `messages` messages are cut into: sqrt(n / 2), at least 3 (see the method above)."""
    return max(3, math.isqrt(messages // 2))


def cluster_texts(texts: list[str], *, max_topics: int = 12, seed: int = 0):
    """Fit the topic model on `texts`. Returns (model, labels, vectors) or None with too little text.
    model: dict with vectorizer, svd, kmeans, terms (top terms per topic)."""
    import numpy as np
    from sklearn.cluster import KMeans, MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import Normalizer

    if len(texts) < 6:
        return None
    surfaces: dict = {}
    vectorizer = _vectorizer(surfaces)
    try:
        tfidf = vectorizer.fit_transform(texts)
    except ValueError:  # nothing left after stop words
        return None
    if tfidf.shape[1] < 3:
        return None
    components = max(2, min(100, tfidf.shape[1] - 1, len(texts) - 1))
    svd = TruncatedSVD(n_components=components, random_state=seed)
    normalizer = Normalizer(copy=False)
    vectors = normalizer.fit_transform(svd.fit_transform(tfidf))
    best = None
    # silhouette on a bounded sample: its cost grows with the square of the rows
    sample = min(len(texts), 2000)
    for k in range(2, min(max_topics, topics_most(len(texts)), len(texts) - 1) + 1):
        # Mini-batch k-means on large samples (the same objective, a fraction of the time).
        if len(texts) > 5000:
            kmeans = MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=2048, random_state=seed).fit(vectors)
        else:
            kmeans = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(vectors)
        if len(set(kmeans.labels_)) < 2:
            continue
        score = silhouette_score(vectors, kmeans.labels_, sample_size=sample, random_state=seed)
        if best is None or score > best[0] + 1e-9:
            best = (score, kmeans)
    if best is None:
        return None
    kmeans = best[1]
    labels = kmeans.labels_
    names = np.array(vectorizer.get_feature_names_out())
    terms = {}
    for topic in range(kmeans.n_clusters):
        rows = tfidf[labels == topic]
        mean = np.asarray(rows.mean(axis=0)).ravel()
        terms[topic] = [
            " ".join(surfaces[stem].most_common(1)[0][0] if stem in surfaces else stem for stem in str(names[i]).split())
            for i in mean.argsort()[::-1][:4] if mean[i] > 0
        ]
    model = {"vectorizer": vectorizer, "svd": svd, "normalizer": normalizer, "kmeans": kmeans, "terms": terms}
    return model, labels, vectors


def assign(model, texts: list[str]):
    """Topic of each text under a fitted model (the previous period, for the trend)."""
    if not texts:
        return []
    vectors = model["normalizer"].transform(model["svd"].transform(model["vectorizer"].transform(texts)))
    return list(model["kmeans"].predict(vectors))


def _sample(f: ReportFilters, limit: int) -> list[dict]:
    """At most `limit` inbound texts of the period, evenly spread (every k-th id): one count, one read."""
    qs = _inbound(f).exclude(text="")
    total = qs.count()
    if total > limit:
        step = -(-total // limit)
        qs = qs.annotate(mod=F("id") % step).filter(mod=0)
    return list(
        qs.order_by("id").values("id", "conversation_id", "text", "sent_at", channel_kind=F("channel_account__kind"))[:limit]
    )


def topics_compute(*, params: dict) -> dict:
    """Compute the report for filters given as ReportFilters fields, cache it, return it."""
    from datetime import date
    from zoneinfo import ZoneInfo

    import numpy as np

    f = ReportFilters(
        start=date.fromisoformat(params["start"]), end=date.fromisoformat(params["end"]),
        team_ids=tuple(params["team_ids"]) if params.get("team_ids") is not None else None,
        channel=params.get("channel"), tz=ZoneInfo(params["tz"]),
    )
    limit = int(getattr(settings, "REPORTS_TOPICS_MAX_MESSAGES", 20_000))
    rows = _sample(f, limit)
    texts = [r["text"][:2000] for r in rows]
    result = {"status": "ready", "computed_at": timezone.now().isoformat(), "messages_sampled": len(rows), "topics": []}
    fitted = cluster_texts(texts, max_topics=int(getattr(settings, "REPORTS_TOPICS_MAX", 12)))
    if fitted is not None:
        model, labels, vectors = fitted
        previous = _sample(f.previous(), limit)
        previous_counts = Counter(assign(model, [r["text"][:2000] for r in previous]))
        centres = model["kmeans"].cluster_centers_
        topics = []
        for topic in range(model["kmeans"].n_clusters):
            members = np.flatnonzero(labels == topic)
            if not len(members):
                continue
            member_rows = [rows[i] for i in members]
            distance = ((vectors[members] - centres[topic]) ** 2).sum(axis=1)
            examples, seen = [], set()
            for i in members[distance.argsort()]:
                r = rows[i]
                if r["conversation_id"] in seen:
                    continue
                seen.add(r["conversation_id"])
                examples.append({"conversation_id": r["conversation_id"], "text": r["text"][:160], "url": f"/c/{r['conversation_id']}/"})
                if len(examples) == 3:
                    break
            hours = Counter(r["sent_at"].astimezone(f.tz).hour for r in member_rows)
            channels = Counter(r["channel_kind"] for r in member_rows)
            before = previous_counts.get(topic, 0)
            topics.append({
                "topic": len(topics) + 1,
                "label": ", ".join(model["terms"].get(topic, [])) or "—",
                "terms": model["terms"].get(topic, []),
                "messages": len(members),
                "conversations": len({r["conversation_id"] for r in member_rows}),
                "previous_messages": before,
                "trend_pct": round(100.0 * (len(members) - before) / before, 1) if before else None,
                "channels": [{"channel": k, "channel_label": _channel(k), "messages": n} for k, n in channels.most_common()],
                "peak_hours": [h for h, _ in hours.most_common(3)],
                "hours": [hours.get(h, 0) for h in range(24)],
                "examples": examples,
            })
        topics.sort(key=lambda t: -t["messages"])
        for i, t in enumerate(topics, 1):
            t["topic"] = i
        result["topics"] = topics
    cache.set(CACHE_PREFIX + f.key(), result, int(getattr(settings, "REPORTS_TOPICS_CACHE_SECONDS", 3600)))
    cache.delete(STATUS_PREFIX + f.key())
    return result


def topics_params(f: ReportFilters) -> dict:
    return {"start": f.start.isoformat(), "end": f.end.isoformat(), "team_ids": list(f.team_ids) if f.team_ids is not None else None,
            "channel": f.channel, "tz": f.tz.key}


def topics_report(f: ReportFilters) -> dict:
    """The cached report, or {"status": "computing"} after queueing its task (once per filters)."""
    f = replace(f, bucket="day")  # the trend bucket does not change topics
    cached = cache.get(CACHE_PREFIX + f.key())
    if cached is not None:
        return cached
    if cache.add(STATUS_PREFIX + f.key(), 1, 600):
        current_app.signature(COMPUTE_TASK, args=(topics_params(f),)).delay()
        cached = cache.get(CACHE_PREFIX + f.key())  # eager (embedded): computed already
        if cached is not None:
            return cached
    return {"status": "computing", "topics": []}

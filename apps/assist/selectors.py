"""Suggestions for the agent answering a conversation: help-center articles and resolved past
cases that match the customer's latest message (docs/suggestions.md).

Articles: apps.helpcenter's articles_search on the message's content words (stop words out: it
reads the first few words only), fused (reciprocal rank, half weight each) with the articles that
match the best past case's customer message and the reply which resolved it: the help center's
words are the agents' words more than the customers'. Measured on the labelled set (bench/suggestions.py), this fusion is what lifts top-1.

Past cases, on PostgreSQL: the customers' messages of resolved conversations the agent may see
(the inbox's one visibility rule) that share a stemmed, unaccented word with the latest message
(`@@` on a GIN index per language, migration 0001), at most CANDIDATES of them (the newest), ranked
by full-text rank plus trigram similarity (which forgives a typo the stemmer cannot). One query
ranks them with the reply that closed each case; one more reads those replies.
On SQLite (the embedded mode) the same candidates come from LIKE on the longest words and are
ranked in Python by shared words: good enough for a demo, not for a million messages.
"""
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL

from apps.helpcenter.models import Article
from apps.helpcenter.selectors import articles_search
from apps.inbox.models import Conversation, Message
from apps.inbox.visibility import visible_conversations_q

# Newest matching messages ranked per request: bounds the work however common the words are.
CANDIDATES = 400
ONE_WORD_WINDOW = 100_000
# Characters of the customer's message that make the query (a pasted mail can be long).
QUERY_MAX_CHARS = 500
# Weight of trigram similarity against ts_rank_cd (normalised to 0..1).
TRIGRAM_WEIGHT = 1.0
# The reply that resolved a case counts too (REPLY_WEIGHT): agents name the problem in the
# words of the help center ("damaged", "warranty") where customers use their own.
REPLY_WEIGHT = 1.0
REPLY_TEXT_SQL = (
    "(SELECT r.text FROM inbox_message r WHERE r.conversation_id = inbox_message.conversation_id "
    "AND r.direction = 'out' AND r.kind = 'message' AND r.text <> '' ORDER BY r.sent_at DESC, r.id DESC LIMIT 1)"
)
# Each content word's trigram word similarity (WORD_WEIGHT, averaged): a misspelt word still counts.
WORD_WEIGHT = 0.5
SCORE_SQL = (
    "ts_rank_cd({vector}, {query}, 32)"
    " + %s * word_similarity(%s, inbox_message.text)"
    " + %s * (SELECT avg(word_similarity(w, inbox_message.text)) FROM unnest(%s::text[]) AS w)"
    " + %s * ts_rank_cd(to_tsvector('{config}'::regconfig, COALESCE(" + REPLY_TEXT_SQL + ", '')), {query}, 32)"
)
CONFIGS = {"es": "assist_es", "en": "assist_en"}
# Weight of each of the best past case's two texts (its customer message, its resolving reply)
# against the question's own article search, in the reciprocal-rank fusion of articles_for.
ARTICLE_FEEDBACK = 0.5

_STOPWORDS = {
    "es": set("el la los las de del que y en un una por con no se su para es al lo como más mi me ha he "
              "ya pero sus le si porque esta está todavía hola gracias qué cómo cuándo dónde hace hice "
              "puedo podéis quiero tengo mis yo os nos muy".split()),
    "en": set("the a an of to and in is it my i for on with that this was not have has be are you your "
              "can me at do how what when where why still please hi hello thanks would could get want".split()),
}
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class PastCase:
    conversation: Conversation
    message: Message  # the customer's message that matched
    reply: Message  # the agent's last reply before it was resolved
    score: float


@dataclass(frozen=True)
class Suggestions:
    message: Message | None  # the customer's latest message, which they answer
    language: str
    articles: list[Article]
    cases: list[PastCase]


def suggestions_for(*, user, conversation: Conversation, articles: int = 3, cases: int = 3) -> Suggestions:
    """What to answer the customer's latest message of `conversation` (visible to `user`: the caller
    checked) with. A constant number of queries, whatever the sizes."""
    message = latest_inbound(conversation=conversation)
    language = detect_language(message.text, default=user.language) if message else (user.language or "en")
    if message is None:
        return Suggestions(message=None, language=language, articles=[], cases=[])
    found = past_cases(user=user, text=message.text, language=language, exclude_conversation_id=conversation.id, limit=cases)
    return Suggestions(message=message, language=language, cases=found,
                       articles=articles_for(text=message.text, language=language, best_case=found[0] if found else None, limit=articles))


def articles_for(*, text: str, language: str, best_case: PastCase | None = None, limit: int = 3) -> list[Article]:
    """Published articles for `text`, best first: articles_search on its content words, fused by
    reciprocal rank (weights in ARTICLE_FEEDBACK) with articles_search on the best past case's
    customer message and on the reply that resolved it."""
    searches = [(1.0, text)]
    if best_case is not None:
        searches += [(ARTICLE_FEEDBACK, best_case.message.text), (ARTICLE_FEEDBACK, best_case.reply.text)]
    score, by_id = {}, {}
    for weight, query in searches:
        for rank, article in enumerate(articles_search(content_words(query, language), language=language, limit=limit + 2)):
            score[article.id] = score.get(article.id, 0.0) + weight / (1 + rank)
            by_id.setdefault(article.id, article)
    best = sorted(score, key=lambda i: -score[i])  # stable: ties keep the question's order
    return [by_id[i] for i in best[:limit]]


def content_words(text: str, language: str) -> str:
    """`text` without stop words, accents or repeats, in its order (a search engine's query)."""
    keep = _keywords(text, language)
    seen = []
    for word in _WORD.findall(_plain(text)):
        if word in keep and word not in seen:
            seen.append(word)
    return " ".join(seen)


def detect_language(text: str, *, default: str | None = None) -> str:
    """'es' or 'en' by stop words (and ñ ¿ ¡ á é í ó ú); ties go to `default` (the agent's language)."""
    words = [w.lower() for w in _WORD.findall(text)]
    es = sum(w in _STOPWORDS["es"] for w in words) + 2 * len(re.findall(r"[ñ¿¡áéíóú]", text.lower()))
    en = sum(w in _STOPWORDS["en"] for w in words)
    if es > en:
        return "es"
    if en > es:
        return "en"
    fallback = (default or settings.LANGUAGE_CODE or "en")[:2]
    return fallback if fallback in CONFIGS else "en"


def latest_inbound(*, conversation: Conversation) -> Message | None:
    """The customer's latest message in the conversation (what the suggestions answer)."""
    return (
        Message.objects.filter(conversation=conversation, direction=Message.Direction.IN, kind=Message.Kind.MESSAGE)
        .filter(text__regex=r"\w")  # a word, not an empty or blank body (a photo, a sticker)
        .order_by("-sent_at", "-id")
        .first()
    )


def past_cases(*, user, text: str, language: str, exclude_conversation_id: int | None = None, limit: int = 3) -> list[PastCase]:
    """Resolved conversations `user` may see whose customer wrote something like `text`, best first,
    one per conversation, each with the matching message and the reply that resolved it."""
    text = text[:QUERY_MAX_CHARS]
    if not _WORD.search(text):
        return []
    last_reply = (
        Message.objects.filter(conversation_id=OuterRef("conversation_id"), direction=Message.Direction.OUT, kind=Message.Kind.MESSAGE)
        .exclude(text="")
        .order_by("-sent_at", "-id")
        .values("id")[:1]
    )
    candidates = (
        Message.objects.filter(direction=Message.Direction.IN, kind=Message.Kind.MESSAGE)
        .filter(visible_conversations_q(user, prefix="conversation__"))
        .filter(conversation__status=Conversation.Status.RESOLVED, conversation__redacted_at__isnull=True)
    )
    if exclude_conversation_id:
        candidates = candidates.exclude(conversation_id=exclude_conversation_id)
    if connection.vendor == "postgresql":
        rows = _ranked_postgresql(candidates, text=text, language=language, last_reply=last_reply, limit=limit)
    else:
        rows = _ranked_by_words(candidates, text=text, language=language, last_reply=last_reply, limit=limit)
    replies = Message.objects.in_bulk([m.reply_id for m in rows])
    return [PastCase(conversation=m.conversation, message=m, reply=replies[m.reply_id], score=m.score) for m in rows if m.reply_id in replies]


class _Matches(Func):
    """to_tsvector(config, text) @@ (any of the lexemes of `query`, or with pairs=True any two of
    them): the index expression of migration 0001, on the column as the query at hand aliases it
    (U0 inside a subquery)."""

    output_field = BooleanField()

    def __init__(self, config: str, query: str, *, pairs: bool = False):
        super().__init__(F("text"), Value(query))
        self.config, self.pairs = config, pairs

    def as_sql(self, compiler, connection, **extra):
        column, column_params = compiler.compile(self.source_expressions[0])
        query, query_params = compiler.compile(self.source_expressions[1])
        cfg = f"'{self.config}'::regconfig"
        if not self.pairs:
            tsquery = f"replace(plainto_tsquery({cfg}, {query})::text, ' & ', ' | ')::tsquery"
            return f"to_tsvector({cfg}, {column}) @@ {tsquery}", [*column_params, *query_params]
        lexemes = f"unnest(tsvector_to_array(to_tsvector({cfg}, {query})))"
        tsquery = (f"COALESCE((SELECT string_agg(format('(%%L & %%L)', a, b), ' | ')::tsquery "
                   f"FROM {lexemes} a, {lexemes} b WHERE a < b), ''::tsquery)")
        return f"to_tsvector({cfg}, {column}) @@ {tsquery}", [*column_params, *query_params, *query_params]


def _ranked_postgresql(candidates, *, text: str, language: str, last_reply, limit: int) -> list[Message]:
    config = CONFIGS.get(language, CONFIGS["en"])
    # The candidates (a subquery): an expression, so the column is the subquery's own (see _Matches).
    # Two bounded sets: the newest messages sharing two of its words (the likelier answers, which
    # a common word alone would crowd out at a million messages) and the newest sharing any word
    # (a misspelt or single-word question still finds something).
    # Ordered by id + 0, not id: walking the primary key backwards and computing to_tsvector for
    # every row until 400 match is the plan PostgreSQL picks for common words, and it reads a
    # million rows when the agent's teams hold few of the matches; the GIN index finds them all.
    newest_first = (F("id") + 0).desc()
    two = candidates.filter(_Matches(config, text, pairs=True)).order_by(newest_first).values("id")[:CANDIDATES]
    # The one-word set only among the newest ONE_WORD_WINDOW messages: a common word matches a
    # third of the table, and the two-word set already reaches back further.
    recent = RawSQL("(SELECT max(id) FROM inbox_message) - %s", [ONE_WORD_WINDOW])
    one = candidates.filter(_Matches(config, text), id__gt=recent).order_by(newest_first).values("id")[:CANDIDATES]
    newest = two.union(one)
    # The ranking runs on the outer query, whose table is inbox_message itself (no alias).
    vector = f"to_tsvector('{config}'::regconfig, inbox_message.text)"
    # Any of the message's words (plainto_tsquery ANDs them all: too strict for a paraphrase).
    query = f"replace(plainto_tsquery('{config}'::regconfig, %s)::text, ' & ', ' | ')::tsquery"
    ranked = (
        Message.objects.filter(id__in=Subquery(newest))
        .annotate(
            score=RawSQL(
                SCORE_SQL.format(vector=vector, query=query, config=config),
                [text, TRIGRAM_WEIGHT, text, WORD_WEIGHT, sorted(_keywords(text, language)) or [text], REPLY_WEIGHT, text],
                output_field=FloatField(),
            ),
            reply_id=Subquery(last_reply),
        )
        .filter(reply_id__isnull=False)
        .select_related("conversation__customer")
        .order_by("-score", "-id")
    )
    return _one_per_conversation(ranked[: limit * 4], limit)


def _ranked_by_words(candidates, *, text: str, language: str, last_reply, limit: int) -> list[Message]:
    words = _keywords(text, language)
    if not words:
        return []
    longest = sorted(words, key=len, reverse=True)[:6]
    match = Q()
    for word in longest:
        match |= Q(text__icontains=word[:-1] if len(word) > 4 else word)  # a crude stem: pedidos ~ pedido
    rows = list(
        candidates.filter(match)
        .annotate(reply_id=Subquery(last_reply))
        .filter(reply_id__isnull=False)
        .select_related("conversation__customer")
        .order_by("-id")[:CANDIDATES]
    )
    for m in rows:
        theirs = _keywords(m.text, language)
        m.score = len(words & theirs) / (len(words | theirs) or 1)
    rows.sort(key=lambda m: (-m.score, -m.id))
    return _one_per_conversation(rows, limit)


def _one_per_conversation(rows, limit: int) -> list[Message]:
    seen, best = set(), []
    for m in rows:
        if m.conversation_id in seen:
            continue
        seen.add(m.conversation_id)
        best.append(m)
        if len(best) == limit:
            break
    return best


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()


def _keywords(text: str, language: str) -> set[str]:
    stop = {_plain(w) for w in _STOPWORDS.get(language, ())}
    return {w for w in _WORD.findall(_plain(text)) if len(w) > 2 and w not in stop}

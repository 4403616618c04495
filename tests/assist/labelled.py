"""The labelled set of the suggestions (tests/fixtures/suggestions/): load its corpus into the
database through the real ingest service, and measure the hit rates. Used by
tests/assist/test_ranking.py and bench/suggestions.py."""
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apps.helpcenter.models import Article
from apps.helpcenter.services import article_create
from apps.inbox.inbound import InboundMessage, SenderIdentity
from apps.inbox.models import Conversation
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest

from apps.assist.selectors import articles_for, detect_language, past_cases

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "suggestions"
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)
NAMES = ["Marta López", "John Carter", "Pablo Ruiz", "Emily Stone", "Lucía Fernández", "David Kim", "Carmen Vidal",
         "Oliver Brown", "Javier Moreno", "Sophie Martin", "Elena Navarro", "Liam Walsh", "Irene Castro"]


def corpus() -> dict:
    return json.loads((FIXTURES / "corpus.json").read_text())


def labelled() -> list[dict]:
    return json.loads((FIXTURES / "labelled.json").read_text())


def load_articles(*, author) -> dict[str, Article]:
    """Every article of the corpus, published by `author` (a supervisor or admin); the Spanish and
    English versions of a topic linked as translations. Returns {article key: article}."""
    loaded = {}
    for item in corpus()["articles"]:
        topic = item["key"].rsplit("-", 1)[0]
        other = loaded.get(f"{topic}-{'en' if item['language'] == 'es' else 'es'}")
        loaded[item["key"]] = article_create(
            author=author, language=item["language"], title=item["title"], body=f"<p>{item['body']}</p>",
            status=Article.Status.PUBLISHED, translation_of=other,
        )
    return loaded


def load_cases(account, *, prefix: str = "") -> dict[str, Conversation]:
    """Every past case and distractor of the corpus as a conversation on `account` (the customer's
    messages in, the agent's reply as the channel's echo out), resolved when the corpus says so.
    Returns {case key: conversation}."""
    data = corpus()
    batch, keys = [], []
    for n, case in enumerate(data["cases"] + data["distractors"]):
        email = f"{prefix}{case['key']}@example.com"
        for i, message in enumerate(case["messages"]):
            batch.append(InboundMessage(
                account_id=account.id, external_id=f"{prefix}{case['key']}-{i}",
                senders=[SenderIdentity("email", email, display_name=NAMES[n % len(NAMES)])],
                sent_at=T0 + timedelta(hours=n, minutes=i), text=message["text"],
                thread_key=f"{prefix}{case['key']}", direction=message["direction"],
            ))
        keys.append(case)
    messages_ingest(messages=batch)
    by_thread = {c.thread_key: c for c in Conversation.objects.filter(channel_account=account, thread_key__startswith=prefix)}
    loaded = {}
    for case in keys:
        conversation = by_thread[f"{prefix}{case['key']}"]
        if case["status"] != conversation.status:
            conversation = conversation_update(conversation=conversation, actor=None, status=case["status"])
        loaded[case["key"]] = conversation
    return loaded


@dataclass
class HitRates:
    total: int = 0
    article_top1: int = 0
    article_top3: int = 0
    case_top1: int = 0
    case_top3: int = 0
    misses: list[str] = field(default_factory=list)

    def line(self, name: str, top1: int, top3: int) -> str:
        return f"{name}: top-1 {top1}/{self.total} ({100 * top1 / self.total:.0f}%), top-3 {top3}/{self.total} ({100 * top3 / self.total:.0f}%)"


def evaluate(*, user, cases: dict[str, Conversation], articles: dict | None = None) -> HitRates:
    """Ask for suggestions for every labelled question (as `user`), as suggestions_for does for a
    conversation's latest message, and count where the expected article and past case rank."""
    case_key = {c.id: key for key, c in cases.items()}
    article_key = {a.id: key for key, a in (articles or {}).items()}
    rates = HitRates()
    for item in labelled():
        rates.total += 1
        language = detect_language(item["question"])
        if language != item["language"]:
            rates.misses.append(f"language {language} != {item['language']}: {item['question']}")
        best = past_cases(user=user, text=item["question"], language=language)
        found = [case_key.get(p.conversation.id) for p in best]
        rates.case_top1 += found[:1] == [item["case"]]
        rates.case_top3 += item["case"] in found[:3]
        if found[:1] != [item["case"]]:
            rates.misses.append(f"case {item['case']}: got {found} for {item['question']!r}")
        if articles is not None:
            suggested = articles_for(text=item["question"], language=language, best_case=best[0] if best else None, limit=3)
            got = [article_key.get(a.id) for a in suggested]
            rates.article_top1 += got[:1] == [item["article"]]
            rates.article_top3 += item["article"] in got[:3]
            if got[:1] != [item["article"]]:
                rates.misses.append(f"article {item['article']}: got {got} for {item['question']!r}")
    return rates

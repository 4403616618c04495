"""How fast the priority rules read messages: the default rules (apps/routing/defaults.py) judged on
short tweets and long mails in Spanish and English, in this process (no database).

    .venv/bin/python bench/priority_rules.py             # 20,000 messages
    .venv/bin/python bench/priority_rules.py -n 100000

Prints messages/s and µs per message for each kind of text; ingest calls the same judge once per
new conversation and once per later customer message.
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from apps.routing.defaults import DEFAULT_RULES  # noqa: E402
from apps.routing.models import PriorityRule  # noqa: E402
from apps.routing.services import PriorityJudge  # noqa: E402

SHORT = [
    "¡Es una VERGÜENZA! Tres semanas esperando el sofá",
    "@AuroraHome where is my order? #fail",
    "Quiero darme de baja ya mismo",
    "I want to cancel my account, this is a scam",
    "¿Tenéis el sofá en azul?",
    "Voy a denunciarlos a la OCU",
]
LONG_LINE = ("Hola, escribo porque el pedido 44120 sigue sin llegar y nadie me contesta al teléfono. "
             "I have been waiting for three weeks and nobody answers my emails. ")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=20_000)
    args = parser.parse_args()
    rules = []
    for i, (position, name, conditions, priority, moderation) in enumerate(DEFAULT_RULES, start=1):
        if conditions.get("customer_tag") or conditions.get("repeated_contact"):
            continue  # these read the database once per batch, not the text
        rules.append(PriorityRule(id=i, position=position, name=name, priority=priority, moderation=moderation, **conditions))
    judge = PriorityJudge(rules)
    rng = random.Random(2026)
    cases = {
        "tweet (≤280 chars)": [rng.choice(SHORT) for _ in range(args.n)],
        "mail (~2 KB)": [LONG_LINE * 12 + rng.choice(SHORT) for _ in range(args.n // 4)],
        "mail (~40 KB, scanned to 20k chars)": [LONG_LINE * 240 for _ in range(args.n // 40)],
    }
    print(f"{len(rules)} text rules ({sum(len(r.keywords.split(',')) for r in rules if r.keywords)} keywords)")
    for label, texts in cases.items():
        started = time.perf_counter()
        fired = 0
        for text in texts:
            fired += bool(judge.judge(channel_kind="twitter", is_public=True, text=text).reasons)
        seconds = time.perf_counter() - started
        print(f"{label:38} {len(texts):>7} messages  {len(texts) / seconds:>10,.0f} msg/s  "
              f"{seconds / len(texts) * 1e6:>8.1f} µs/msg  ({fired} fired)")
    print("command: .venv/bin/python bench/priority_rules.py -n", args.n)


if __name__ == "__main__":
    main()

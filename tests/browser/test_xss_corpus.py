"""An XSS corpus (tests/security/xss_corpus.py: script tags, event handlers, javascript: and data:
URLs, SVG, CSS, entity and unicode tricks) placed through every inbound channel's own parser
(each payload kind of the channel registry: names, subjects, texts, HTML mail, form labels and
fields, comment authors, caller names) and through the agent's own inputs (notes, tags, canned
responses), then rendered by chromium on a real desk: the inbox, every conversation with its
customer's timeline, and the canned-response menu desk.js fills in.

The page fails the test on ANY of: a call to window.__xss (a payload ran), an alert/confirm
dialog, a Content-Security-Policy violation (markup got in and tried to run; the CSP stopping it
is the second line, not the proof), or an element carrying the payloads' `data-xss` marker in the
page or any of its frames (markup got in at all).

A payload kind without a hostile builder here fails the test, so a new channel is covered.
"""
import email.headerregistry
import email.message
import email.policy
import json
from urllib.parse import urlencode

import pytest

from apps.accounts.models import Role
from apps.connectors.drain import inbound_drain
from apps.connectors.models import ChannelKind
from apps.connectors.registry import PAYLOAD_KINDS
from apps.connectors.services import payload_stage
from apps.inbox.models import Conversation
from apps.inbox.services.canned import canned_create
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.replies import note_create
from tests.security.xss_corpus import HOSTILE_TAGS, corpus

from tests.browser.conftest import login, off_loop

PAGE_ID = "104857600123456"
PER_KIND = 3  # payloads per kind: each with another hostile name, all with every string in the text


def _api(names, text, n):
    return json.dumps({"external_id": f"xss-{n}", "sender": {"email": f"xss{n}@example.com", "name": names[0]},
                       "subject": names[1], "text": text, "html": text}).encode()


def _email(names, text, n):
    mail = email.message.EmailMessage(policy=email.policy.SMTP)
    mail["From"] = email.headerregistry.Address(display_name=names[0], addr_spec=f"xss{n}@example.com")
    mail["To"] = "soporte@tienda.example"
    mail["Subject"] = names[1]
    mail["Message-ID"] = f"<xss-{n}@example.com>"
    mail["Date"] = "Fri, 20 Nov 2026 09:00:00 +0000"
    mail.set_content(text)
    mail.add_alternative(f"<html><body><p>{text}</p></body></html>", subtype="html")
    return bytes(mail)


def _twitter(names, text, n):
    tweet_id = str(1862000000000000000 + n)
    return json.dumps({"for_user_id": "1400000000000000001", "tweet_create_events": [{
        "created_at": "Mon Nov 23 11:00:00 +0000 2026", "id_str": tweet_id, "text": text,
        "user": {"id_str": str(1510000000000000000 + n), "name": names[0], "screen_name": f"xss{n}"}}]}).encode()


def _facebook(names, text, n):
    return json.dumps({"object": "page", "entry": [{"id": PAGE_ID, "time": 1795428000123, "changes": [{"field": "feed", "value": {
        "item": "comment", "verb": "add", "comment_id": f"post_1:{n}", "post_id": f"{PAGE_ID}_1", "parent_id": f"{PAGE_ID}_1",
        "from": {"id": str(7000 + n), "name": names[0]}, "message": text, "created_time": 1795428000}}]}]}).encode()


def _twilio(names, text, n):
    return json.dumps({"CallSid": f"CAxss{n:06d}", "From": f"+3460099{n:04d}", "To": "+34910000000", "CallerName": names[0],
                       "CallStatus": "no-answer", "Direction": "inbound", "CallDuration": "0",
                       "Timestamp": "Fri, 20 Nov 2026 09:04:12 +0000"}).encode()


def _asterisk(names, text, n):
    clid = '"' + names[0].replace('"', '""') + f' <61199{n:04d}>"'
    return (f'"","61199{n:04d}","100","from-pstn",{clid},"PJSIP/a","PJSIP/b","Dial","x",'
            '"2026-11-20 10:00:00","","2026-11-20 10:00:20",20,0,"NO ANSWER","DOCUMENTATION"\n').encode()


def _freeswitch(names, text, n):
    name = names[0].replace('"', '""')
    return (f'"{name}","61299{n:04d}","910000000","public","2026-11-20 10:00:00","","2026-11-20 10:00:20",'
            f'"20","0","NO_ANSWER","fs-{n}-0000-4000-8000-000000000000","","","PCMA","PCMA"\n').encode()


def _webform(names, text, n):
    return json.dumps({"id": f"xss-{n}", "form": "contacto", "title": names[1], "fields": [
        {"name": "name", "label": names[2], "type": "text", "value": names[0]},
        {"name": "email", "label": "Email", "type": "email", "value": f"xss{n}@example.com"},
        {"name": "subject", "label": names[3], "type": "select", "value": names[1]},
        {"name": "message", "label": "Mensaje", "type": "textarea", "value": text}],
        "submitted_at": "2026-11-20T10:00:00+00:00", "ip": "203.0.113.7", "user_agent": names[2]}).encode()


BUILDERS = {"api": _api, "email": _email, "twitter": _twitter, "facebook": _facebook, "twilio": _twilio,
            "asterisk": _asterisk, "freeswitch": _freeswitch, "webform": _webform}
ACCOUNT_KINDS = {"twilio": ChannelKind.PHONE, "asterisk": ChannelKind.PHONE, "freeswitch": ChannelKind.PHONE}
ACCOUNT_SETTINGS = {"facebook": {"page_id": PAGE_ID}, "twitter": {"user_id": "1400000000000000001"}}

HOOK = """
window.__xss_hits = [];
window.__xss = (n) => window.__xss_hits.push('ran ' + n);
document.addEventListener('securitypolicyviolation', (e) =>
    window.__xss_hits.push('csp ' + e.violatedDirective + ' ' + (e.sample || e.blockedURI)));
"""


def test_every_payload_kind_has_a_hostile_builder():
    assert set(PAYLOAD_KINDS) <= set(BUILDERS), f"add a builder for {sorted(set(PAYLOAD_KINDS) - set(BUILDERS))}"


def _place_everything(make_account, team, agent, supervisor) -> tuple[list[int], int]:
    strings = corpus()
    values = list(strings.values())
    text = "\n".join(values)
    placements = 0
    for kind, build in BUILDERS.items():
        account = make_account(kind=ACCOUNT_KINDS.get(kind, kind), team=team, settings=ACCOUNT_SETTINGS.get(kind, {}),
                               name=f"{kind} {values[len(kind)]}")
        for i in range(PER_KIND):
            n = len(kind) * 100 + i
            names = [values[(n + k) % len(values)] for k in range(4)]
            payload_stage(account=account, kind=kind, raw=build(names, text, n))
            placements += len(values) + 4
    counts = inbound_drain()
    assert counts.failed == 0, counts.summary()
    conversations = list(Conversation.objects.filter(team=team).order_by("id"))
    # the agent's own inputs: a note, tags, and canned responses the composer's menu lists
    first = conversations[0]
    note_create(conversation=first, author=agent, text=text)
    conversation_update(conversation=first, actor=agent, tags=HOSTILE_TAGS)
    for i, value in enumerate(values[:20]):
        canned_create(actor=supervisor, shortcut=f"xss-{i}", title=value, text=values[-1 - i])
    placements += len(values) + len(HOSTILE_TAGS) + 40
    return [c.id for c in conversations], placements


def _hits(page) -> list[str]:
    hits = []
    for frame in page.frames:
        try:
            hits += frame.evaluate("() => (window.__xss_hits || []).slice()")
            marked = frame.evaluate("() => Array.from(document.querySelectorAll('[data-xss]')).map(e => e.outerHTML.slice(0, 120))")
        except Exception as exc:  # a sandboxed frame without scripts: look at it from outside
            marked = [str(exc)] if "sandbox" not in str(exc) else []
        hits += [f"markup injected in {frame.url[:60]}: {m}" for m in marked]
    return hits


@pytest.mark.postgres
@pytest.mark.redis
def test_no_hostile_string_runs_or_becomes_markup_anywhere_on_the_desk(page, desk_url, make_user, make_account, team):
    agent = make_user(role=Role.AGENT, teams=[team])
    supervisor = make_user(role=Role.SUPERVISOR)
    ids, placements = off_loop(_place_everything, make_account, team, agent, supervisor)
    assert len(ids) >= len(BUILDERS) * PER_KIND - PER_KIND and placements > 300
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(HOOK)
    login(page, agent, desk_url)
    problems = {}
    # the inbox, then every conversation (messages, header, customer timeline), then the canned menu
    page.goto(f"{desk_url}/")
    page.wait_for_load_state("networkidle")
    problems["/"] = _hits(page)
    for conversation_id in ids:
        page.goto(f"{desk_url}/c/{conversation_id}/")
        page.wait_for_load_state("networkidle")
        page.mouse.move(400, 400)  # hover handlers
        problems[f"/c/{conversation_id}/"] = _hits(page)
    page.click("#canned-open")
    page.wait_for_selector("#canned-list li")
    problems["canned menu"] = _hits(page)
    assert page.locator("#canned-list li").count() >= 1
    assert not dialogs, dialogs
    assert {where: hits for where, hits in problems.items() if hits} == {}
    # and the strings are there, shown as text (a message body holds the corpus verbatim)
    assert "onerror=__xss(" in page.content() or "onerror=__xss(" in "".join(f.content() for f in page.frames)

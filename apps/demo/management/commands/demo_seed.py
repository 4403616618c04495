"""manage.py demo_seed — demo users, teams, channel accounts and a customer history.

Idempotent: users, teams and accounts are found by name, messages by their external
ids (a conversation already seeded is skipped whole), so running it again adds nothing.
The history goes in through messages_ingest, like every channel's inbound; agent
replies are the channel's echoes of what the agent sent, and the final state of each
conversation is set through conversation_update, so the audit trail is complete.
"""
import json
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from apps.accounts.models import Team, User
from apps.connectors.account_services import channel_account_create, channel_account_update
from apps.connectors.models import ChannelAccount
from apps.connectors.services import channel_account_rotate_token
from apps.connectors.twitter.parse import dm_pair
from apps.connectors.webform.models import WebForm
from apps.crm.models import Customer, MergeSuggestion
from apps.inbox.models import Conversation, ConversationEvent, Message
from apps.inbox.models import CannedResponse
from apps.inbox.services.canned import canned_create
from apps.inbox.services.conversations import conversation_update
from apps.inbox.services.ingest import messages_ingest
from apps.routing.models import TeamRouting
from apps.routing.services import priority_rules_seed
from apps.sla.models import BusinessCalendar, SlaPolicy
from apps.sla.services import calendar_save, policy_save

from apps.demo.builder import (
    ACCOUNTS, API_ACCOUNT_NAME, DEMO_FORM_FIELDS, DEMO_FORM_SLUG, OUR_TWITTER_ID, TEAMS, USERS, DemoBuilder, people,
)
from apps.demo.standins.graph import ACCESS_TOKEN as GRAPH_TOKEN
from apps.demo.helpcenter_seed import helpcenter_seed

# What the simulator and run_desk need (tokens, webhook secrets, the stand-ins' ports); a test
# keeps its own with CENTRALITA_DEMO_STATE.
TOKEN_FILE = Path(os.environ.get("CENTRALITA_DEMO_STATE") or Path(settings.BASE_DIR) / "var" / "demo-api.json")
STANDINS_BASE_PORT = 8025  # SMTP, then Graph, then X
SLA_CALENDAR = "Madrid office"
# (name, fields): first match by position; targets in working minutes of the Madrid calendar.
SLA_POLICIES = [
    ("VIP customers", {"position": 10, "tag": "vip", "first_response_minutes": 15, "next_response_minutes": 15,
                       "resolution_minutes": 240, "escalation": "raise_priority"}),
    ("Urgent", {"position": 20, "priority": 3, "first_response_minutes": 30, "next_response_minutes": 30,
                "resolution_minutes": 240, "escalation": "team_queue"}),
    ("X / Twitter", {"position": 30, "channel_kind": "twitter", "first_response_minutes": 30, "next_response_minutes": 30,
                     "resolution_minutes": 480, "escalation": "raise_priority"}),
    ("Facebook", {"position": 31, "channel_kind": "facebook", "first_response_minutes": 30, "next_response_minutes": 30,
                  "resolution_minutes": 480, "escalation": "raise_priority"}),
    ("Phone call-backs", {"position": 40, "channel_kind": "phone", "first_response_minutes": 60, "next_response_minutes": 120}),
    ("Email", {"position": 50, "channel_kind": "email", "first_response_minutes": 240, "next_response_minutes": 480,
               "resolution_minutes": 2700}),
    ("Web forms", {"position": 51, "channel_kind": "webform", "first_response_minutes": 240, "next_response_minutes": 480}),
    ("API channel", {"position": 52, "channel_kind": "api", "first_response_minutes": 120, "next_response_minutes": 240}),
]


CANNED = [  # (shortcut, title, text): the variables are canned_render's
    ("hola", "Saludo", "Hola {{customer.first_name}}, soy {{agent.first_name}} de Aurora Home. Gracias por escribirnos."),
    ("hello", "Greeting", "Hi {{customer.first_name}}, this is {{agent.first_name}} from Aurora Home. Thanks for reaching out."),
    ("pedido", "¿Número de pedido?", "¿Nos indicas el número de pedido (empieza por AH-)? Así lo localizamos enseguida."),
    ("order", "Order number?", "Could you send us your order number (it starts with AH-)? We'll find it right away."),
    ("devolucion", "Devolución", "Puedes devolverlo gratis en 30 días desde aurorahome.example/devoluciones; el reembolso llega en 5-7 días laborables."),
    ("return", "Returns", "You can return it free of charge within 30 days at aurorahome.example/returns; the refund arrives in 5-7 working days."),
    ("cierre", "Cierre", "Damos el caso por resuelto. Si necesitas algo más, responde a este mensaje y lo retomamos. ¡Un saludo!"),
    ("closing", "Closing", "We'll mark this as solved. If you need anything else, just reply to this message. Best regards!"),
]


def demo_api_credentials() -> dict | None:
    """{"account_id", "token"} written by the last demo_seed, if any (for simulate_traffic)."""
    try:
        return json.loads(TOKEN_FILE.read_text())
    except (OSError, ValueError):
        return None


class Command(BaseCommand):
    help = "Load the demo: users (printed with passwords), teams, channel accounts, ~40 customers' history."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="for the printed curl example")
        parser.add_argument("--reply-url", default="http://127.0.0.1:8001/",
                            help="where the API channel delivers agents' replies (simulate_traffic --listen-port)")
        parser.add_argument("--standins-port", type=int, default=STANDINS_BASE_PORT,
                            help="first of three loopback ports for the stand-ins (SMTP, Graph API, X API) the demo's "
                                 "email, Facebook and X accounts send to (simulate_traffic --standins runs them)")

    def handle(self, *args, quiet, base_url, reply_url, standins_port, **options):
        users = self._users()
        accounts = self._accounts()
        api_account = self._api_outbound(accounts["api"], reply_url)
        channels = {**self._webhook_channels(accounts), **self._standin_channels(accounts, standins_port)}
        token = self._api_credentials(api_account, channels)
        self._sla()
        self._routing()
        self._canned(users["supervisor"])
        stories, messages = self._history(accounts, users)
        self._contact_form(accounts["webform"])
        helpcenter_seed(author=users.get("supervisor"))
        if quiet:
            return
        self._print(users, api_account, token, stories, messages, base_url.rstrip("/"))

    # --- people and places -------------------------------------------------------------------

    def _users(self) -> dict[str, User]:
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        users = {}
        for username, role, first, last, password, team_names in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:  # a password changed after the first run is left alone
                user = User.objects.create_user(
                    username=username, password=password, role=role, first_name=first, last_name=last,
                    email=f"{username}@aurorahome.example", is_staff=role == "admin", is_superuser=role == "admin",
                    # The shop is in Madrid; Laura reads the desk in Spanish, Sara in English, the rest as their browser.
                    language={"laura": "es", "sara": "en"}.get(username, ""), time_zone="Europe/Madrid",
                )
                user.teams.set([teams[t] for t in team_names])
            users[username] = user
        return users

    def _routing(self) -> None:
        """The default priority rules (Spanish and English) and auto-routing for both teams:
        least loaded, 5 at a time, work handed back after 15 minutes offline."""

        priority_rules_seed()
        for team in Team.objects.filter(name__in=TEAMS):
            TeamRouting.objects.get_or_create(team=team, defaults={
                "mode": TeamRouting.Mode.LEAST_LOADED, "max_open_per_agent": 5, "offline_grace_minutes": 15})

    def _canned(self, supervisor: User) -> None:
        """Saved replies in Spanish and English (type / in the composer); found by shortcut, so an edited one stays."""
        for shortcut, title, text in CANNED:
            if not CannedResponse.objects.filter(shortcut=shortcut).exists():
                canned_create(actor=supervisor, shortcut=shortcut, title=title, text=text)

    def _accounts(self) -> dict[str, ChannelAccount]:
        accounts = {}
        for kind, name, team, account_settings in ACCOUNTS:
            account = ChannelAccount.objects.filter(kind=kind, name=name).first()
            if account is None:
                # the demo shows satisfaction surveys: CSAT is turned on for its channels (off by default)
                account = channel_account_create(
                    kind=kind, name=name, settings=account_settings, team=Team.objects.get(name=team) if team else None,
                    csat_enabled=True,
                )
            elif account.team_id is None and team:  # a demo seeded before its accounts had teams
                account = channel_account_update(account=account, team=Team.objects.get(name=team))
            accounts[kind] = account
        return accounts

    def _api_outbound(self, account: ChannelAccount, reply_url: str) -> ChannelAccount:
        """Replies on the demo API channel go to the simulator, which plays the outside system."""
        changes = {}
        if account.settings.get("outbound_url") != reply_url:
            changes["settings"] = {**account.settings, "outbound_url": reply_url}
        if not account.secrets.get("outbound_secret"):
            changes["secrets"] = {"outbound_secret": secrets.token_urlsafe(32)}
        return channel_account_update(account=account, **changes) if changes else account

    def _webhook_channels(self, accounts) -> dict:
        """Give the demo Page and phone line webhook secrets, so the simulator can post signed webhooks."""
        facebook, phone = accounts["facebook"], accounts["phone"]
        if not facebook.secrets.get("app_secret"):
            facebook = channel_account_update(account=facebook, secrets={
                "app_secret": secrets.token_hex(16), "verify_token": secrets.token_urlsafe(16)})
        if not phone.secrets.get("auth_token"):
            phone = channel_account_update(account=phone, secrets={"auth_token": secrets.token_hex(16)})
        return {
            "facebook": {"account_id": facebook.id, "app_secret": facebook.secrets["app_secret"],
                         "page_id": facebook.settings["page_id"]},
            "phone": {"account_id": phone.id, "auth_token": phone.secrets["auth_token"], "number": phone.settings["number"]},
        }

    def _standin_channels(self, accounts, base_port: int) -> dict:
        """Point the demo's email, X and Facebook accounts at the loopback stand-ins (apps/demo/standins),
        so an agent's reply on them is delivered and answered (docs/demo.md). Only the demo's accounts."""
        ports = {"smtp_port": base_port, "graph_port": base_port + 1, "x_port": base_port + 2}
        mail = accounts["email"]
        wanted = {**mail.settings, "smtp_host": "127.0.0.1", "smtp_port": ports["smtp_port"], "smtp_security": "none",
                  "display_name": "Aurora Home"}
        if mail.settings != wanted:
            # No IMAP server in the demo: the customer's answers come in through the mail drop (the import
            # path, apps/demo/views.py); polling (with Redis and beat) would only fail, so once a day.
            mail = channel_account_update(account=mail, settings=wanted, poll_interval=86400)
        page = accounts["facebook"]
        if page.secrets.get("page_access_token") != GRAPH_TOKEN:
            page = channel_account_update(account=page, secrets={"page_access_token": GRAPH_TOKEN})
        x = accounts["twitter"]
        self._x_dm_threads(x)
        if not x.secrets.get("consumer_secret"):
            x = channel_account_update(account=x, settings={**x.settings, "username": "AuroraHome"}, secrets={
                "consumer_key": secrets.token_urlsafe(16), "consumer_secret": secrets.token_urlsafe(32),
                "access_token": f"{OUR_TWITTER_ID}-{secrets.token_urlsafe(24)}", "access_token_secret": secrets.token_urlsafe(24)})
        # The simulator signs the customer's mail answers with this (apps/demo/views.py); kept across seeds.
        mail_secret = ((demo_api_credentials() or {}).get("standins") or {}).get("mail_secret") or secrets.token_urlsafe(32)
        return {
            "standins": {**ports, "email_account_id": mail.id, "mail_secret": mail_secret},
            "twitter": {"account_id": x.id, "consumer_secret": x.secrets["consumer_secret"],
                        "own": {"id": OUR_TWITTER_ID, "name": "Aurora Home", "username": "AuroraHome"}},
        }

    def _x_dm_threads(self, x: ChannelAccount) -> None:
        """A demo seeded before its DM threads had X's key ("dm:<lower id>-<higher id>") gets it, so
        the customer's DM answer threads into the seeded conversation (where no other holds that key)."""
        old = {f"dm:{OUR_TWITTER_ID}-{p.twitter_id}": f"dm:{dm_pair(OUR_TWITTER_ID, p.twitter_id)}" for p in people()}
        stale = dict(Conversation.objects.filter(channel_account=x, thread_key__in=old).values_list("thread_key", "id"))
        taken = set(Conversation.objects.filter(channel_account=x, thread_key__in=[old[k] for k in stale]).values_list("thread_key", flat=True))
        for key, conversation_id in stale.items():
            if old[key] not in taken:
                Conversation.objects.filter(pk=conversation_id).update(thread_key=old[key])

    def _api_credentials(self, account: ChannelAccount, webhooks: dict) -> str:
        """The inbound token is stored hashed: keep the plain one in var/ for the simulator, rotate if lost."""
        saved = demo_api_credentials() or {}
        token = saved.get("token", "")
        if not (
            saved.get("account_id") == account.id
            and account.inbound_token_hash
            and ChannelAccount.hash_token(token) == account.inbound_token_hash
        ):
            token = channel_account_rotate_token(account=account)
        credentials = {"account_id": account.id, "token": token, "outbound_secret": account.secrets["outbound_secret"], **webhooks}
        if credentials != saved:
            TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
            TOKEN_FILE.write_text(json.dumps(credentials))
            os.chmod(TOKEN_FILE, 0o600)
        return token

    def _sla(self) -> None:
        """A Madrid calendar (Mon–Fri 09–14 and 16–20, Sat 10–14, Spanish and Madrid holidays) and policies:
        minutes on social networks, hours by email. Found by name: an edited demo policy is left alone."""
        from datetime import time


        calendar = BusinessCalendar.objects.filter(name=SLA_CALENDAR).first() or calendar_save(
            name=SLA_CALENDAR, time_zone="Europe/Madrid", holiday_country="ES", holiday_subdivision="MD",
            periods=[{"weekday": d, "start": time(h1), "end": time(h2)} for d in range(5) for h1, h2 in ((9, 14), (16, 20))]
            + [{"weekday": 5, "start": time(10), "end": time(14)}],
            closures=[{"name": "Nochebuena (tarde)", "date_from": timezone.localdate().replace(month=12, day=24),
                       "start": time(14), "end": time(0)}],
        )
        for name, fields in SLA_POLICIES:
            if not SlaPolicy.objects.filter(name=name).exists():
                policy_save(name=name, calendar=calendar, **fields)

    # --- the history ---------------------------------------------------------------------------

    def _history(self, accounts, users) -> tuple[int, int]:
        account_ids = {kind: account.id for kind, account in accounts.items()}
        stories = DemoBuilder(account_ids=account_ids, now=timezone.now()).stories()
        firsts = {(s.messages[0].account_id, s.messages[0].external_id) for s in stories}
        stored = set(
            Message.objects.filter(
                channel_account_id__in=account_ids.values(), external_id__in=[e for _, e in firsts]
            ).values_list("channel_account_id", "external_id")
        )
        fresh = [s for s in stories if (s.messages[0].account_id, s.messages[0].external_id) not in stored]
        if not fresh:
            return 0, 0
        # The history resolves conversations of the demo's past: nobody is asked to rate those (CSAT
        # surveys follow resolutions made from now on: docs/csat.md).
        with override_settings(CSAT_ENABLED=False), transaction.atomic():
            result = messages_ingest(messages=[m for s in fresh for m in s.messages])
            self._settle(fresh, users)
        return len(fresh), result.ingested

    def _settle(self, stories, users) -> None:
        """Who answered, who holds it, where it ended."""
        conversation_of = {
            (account_id, external_id): conversation_id
            for account_id, external_id, conversation_id in Message.objects.filter(
                external_id__in=[s.messages[0].external_id for s in stories]
            ).values_list("channel_account_id", "external_id", "conversation_id")
        }
        conversations = Conversation.objects.in_bulk(set(conversation_of.values()))
        for story in stories:
            first = story.messages[0]
            conversation = conversations[conversation_of[(first.account_id, first.external_id)]]
            if story.outbound_ids:
                agent = users[story.agent]
                # These replies happened in the demo's past and reach us as the channel's
                # echoes: credit the agent and audit the reply as reply_create would.
                replies = Message.objects.filter(channel_account_id=first.account_id, external_id__in=story.outbound_ids)
                replies.update(author=agent)
                self._replied_events(conversation, agent, replies)
            changes = {}
            if story.assignee:
                changes["assignee"] = users[story.assignee]
            if story.status != conversation.status:
                changes["status"] = story.status
            if changes:
                conversation_update(conversation=conversation, actor=users[story.agent or "supervisor"], **changes)
            if story.resolved_at:
                # The audit trail says when it was resolved (the reports' resolution times), not when the seed ran.
                ConversationEvent.objects.filter(conversation=conversation, kind=ConversationEvent.Kind.STATUS,
                                                 data__to="resolved").update(created_at=story.resolved_at)

    def _replied_events(self, conversation, agent, replies) -> None:
        """The REPLIED events reply_create would have made, dated when the reply was sent, with what it
        answered (wait_seconds since the customer's message before it, first_response) for the reports."""
        inbound = list(conversation.messages.filter(direction=Message.Direction.IN).order_by("sent_at").values_list("sent_at", flat=True))
        first, previous = True, None
        for message_id, sent_at in replies.order_by("sent_at").values_list("id", "sent_at"):
            # The customer waited from their first message after the previous reply.
            waiting = [at for at in inbound if at <= sent_at and (previous is None or at > previous)]
            event = ConversationEvent.objects.create(
                conversation=conversation, kind=ConversationEvent.Kind.REPLIED, actor=agent,
                data={"message_id": message_id, "public": conversation.is_public, "first_response": first,
                      "wait_seconds": round((sent_at - waiting[0]).total_seconds(), 3) if waiting else None})
            ConversationEvent.objects.filter(pk=event.pk).update(created_at=sent_at)
            first, previous = False, sent_at

    def _contact_form(self, account: ChannelAccount) -> WebForm:
        """The public contact form at /f/contacto/ (idempotent): try it, the submission lands in the desk."""
        form, created = WebForm.objects.get_or_create(
            slug=DEMO_FORM_SLUG,
            defaults={"title": "Contacta con Aurora Home", "channel_account": account,
                      "intro": "Cuéntanos qué pasa y te respondemos en menos de un día laborable.",
                      "success_message": "¡Gracias! Hemos recibido tu mensaje y te contestaremos pronto.",
                      "submit_label": "Enviar"},
        )
        if created:
            for order, (name, label, kind, required) in enumerate(DEMO_FORM_FIELDS):
                form.fields.create(name=name, label=label, type=kind, required=required, order=order)
        return form

    # --- what the user needs to know -------------------------------------------------------------

    def _print(self, users, api_account, token, stories, messages, base_url) -> None:
        out = self.stdout.write
        if stories:
            out(self.style.SUCCESS(f"Demo history loaded: {stories} conversations, {messages} messages."))
        else:
            out("Demo history already loaded (nothing added).")
        cross = Customer.objects.filter(merged_into__isnull=True, identities__kind="twitter").filter(
            identities__kind="email").distinct().count()
        out(
            f"{Customer.objects.filter(merged_into__isnull=True).count()} customers ({cross} reached us by email and Twitter), "
            f"{Conversation.objects.count()} conversations, "
            f"{MergeSuggestion.objects.filter(status='open').count()} open merge suggestion(s)."
        )
        out("")
        out(self.style.MIGRATE_HEADING("Demo logins (change them on anything reachable from a network):"))
        for username, role, first, last, password, teams in USERS:
            where = f" · teams: {', '.join(teams)}" if teams else ""
            out(f"  {username:<11} {password:<22} {role}{where}")
        out("")
        out(self.style.MIGRATE_HEADING(f"API channel \"{API_ACCOUNT_NAME}\" (account {api_account.id}) inbound token:"))
        out(f"  {token}")
        body = json.dumps(
            {"external_id": "crm-demo-1", "sender": {"name": "Ana García", "email": "ana.garcia@example.com"},
             "subject": "¿Dónde está mi pedido?", "text": "Hola, mi pedido AH-123456 no ha llegado."},
            ensure_ascii=False,
        )
        out(f"  Public contact form: {base_url}/f/{DEMO_FORM_SLUG}/")
        out("  Push a message:")
        out(f"  curl -X POST {base_url}/api/inbound/{api_account.id}/ \\")
        out(f"       -H 'Authorization: Bearer {token}' -H 'Content-Type: application/json' \\")
        out(f"       -d '{body}'")

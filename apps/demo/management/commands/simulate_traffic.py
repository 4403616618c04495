"""manage.py simulate_traffic — keep the demo inbox alive.

POSTs realistic traffic over HTTP every few seconds, exactly as the outside systems would:
API-channel messages to /api/inbound/<account>/ (new customers, returning demo customers,
follow-ups in threads it started), and — with the demo's webhook secrets — signed Facebook
Messenger webhooks and Twilio call status callbacks to the desk's own webhook endpoints. With --listen-port it is also the system the API
channel delivers agents' replies to (the demo account's outbound_url): it checks their
signature, acknowledges them, and now and then has the customer answer back.
With --standins it also runs the providers' stand-ins the demo accounts point at
(apps/demo/standins: an SMTP server, the X API, the Graph API, on the ports demo_seed wrote) and
has the customer answer every message the desk sends there: a mail answer threaded to the desk's
mail (POSTed, signed, to the desk's demo mail drop, which puts it through the email channel's
import path: there is no IMAP server in the demo), a signed Messenger webhook, a signed X Account
Activity webhook (docs/demo.md).
The account, token and signing secret come from the last demo_seed (var/demo-api.json)
unless given.
"""
import base64
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.core.management.base import BaseCommand, CommandError
from twilio.request_validator import RequestValidator

from apps.connectors.push.send import signature

from apps.demo.builder import TrafficGenerator, people
from apps.demo.standins.graph import GraphServer
from apps.demo.standins.mail import SmtpStandin, answer_mail, mail_text
from apps.demo.standins.x import XServer
from .demo_seed import demo_api_credentials


def post_payload(url: str, token: str, payload: dict, timeout: float = 10) -> tuple[int, str]:
    """POST one payload; return (HTTP status, body). Connection errors raise URLError."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:  # 4xx/5xx still carry the desk's {"message"} body
        return exc.code, exc.read().decode(errors="replace")


class ReplyReceiver:
    """The outside system's end of the API channel: receives agents' replies over HTTP.

    `on_reply(payload)` is called for each correctly signed reply, in the server's thread.
    """

    def __init__(self, *, host: str, port: int, secret: str, on_reply):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = "sha256=" + signature(secret, body)
                if not hmac.compare_digest(self.headers.get("X-Centralita-Signature", ""), expected):
                    return self._answer(401, {"error": "bad signature"})
                try:
                    reply = json.loads(body)
                except ValueError:
                    return self._answer(400, {"error": "not JSON"})
                receiver.on_reply(reply)
                self._answer(200, {"external_id": f"sim-reply-{reply.get('message_id')}"})

            def _answer(self, status, data):
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):  # the simulator prints its own lines
                pass

        self.on_reply = on_reply
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "ReplyReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Command(BaseCommand):
    help = "POST simulated API-channel messages to a running desk every few seconds (and receive its replies)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running desk")
        parser.add_argument("--account", type=int, help="API channel account id (default: the demo's)")
        parser.add_argument("--token", help="its inbound token (default: the demo's, from var/demo-api.json)")
        parser.add_argument("--interval", type=float, default=4.0, help="mean seconds between messages")
        parser.add_argument("--count", type=int, default=0, help="stop after this many (0 = run until stopped)")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the server to answer")
        parser.add_argument("--seed", type=int, help="random seed, for a repeatable stream")
        parser.add_argument("--listen-port", type=int, help="also receive the channel's replies on this port")
        parser.add_argument("--listen-host", default="127.0.0.1")
        parser.add_argument("--api-only", action="store_true", help="only API-channel messages (no Messenger or calls)")
        parser.add_argument("--standins", action="store_true",
                            help="run the SMTP, X and Graph stand-ins the demo accounts point at, and answer there")
        parser.add_argument("--answer-delay", type=float, nargs=2, default=(4.0, 12.0), metavar=("MIN", "MAX"),
                            help="seconds the customer takes to answer (uniform between the two)")

    def handle(self, *args, url, account, token, interval, count, wait, seed, listen_port, listen_host, api_only, standins,
               answer_delay, **options):
        saved = demo_api_credentials() or {}
        demo = account is None or token is None  # the demo's own channels: also its webhooks
        if demo:
            if not saved:
                raise CommandError("No --account/--token given and no var/demo-api.json: run `manage.py demo_seed` first.")
            account = account if account is not None else saved["account_id"]
            token = token or saved["token"]
        base_url = url.rstrip("/")
        self.base_url = base_url
        self.endpoint = f"{base_url}/api/inbound/{account}/"
        self.token = token
        # Webhook channels of the demo (absent when --account/--token point elsewhere, or --api-only).
        self.facebook = saved.get("facebook") if demo and not api_only else None
        self.phone = saved.get("phone") if demo and not api_only else None
        self.rng = random.Random(seed)
        self.generator = TrafficGenerator(self.rng)
        self.lock = threading.Lock()  # the generator is shared with the reply receiver's thread
        self.answer_delay = answer_delay
        receiver, servers = None, []
        if listen_port is not None:
            receiver = self._start_receiver(listen_host, listen_port, saved.get("outbound_secret"))
        if standins:
            servers = self._start_standins(saved)
        try:
            self._wait_for_server(base_url, wait)
            sent = 0
            while not count or sent < count:
                if not self._post_next():
                    return
                sent += 1
                if not count or sent < count:
                    # Bursty like real traffic: sometimes two at once, sometimes a long pause.
                    time.sleep(self.rng.expovariate(1 / interval) if interval > 0 else 0)
        except KeyboardInterrupt:
            pass
        finally:
            if receiver:
                receiver.stop()
            for server in servers:
                server.stop()

    def _post_next(self) -> bool:
        """Mostly API messages; now and then a Messenger message or a phone call, signed like the provider's."""
        now = datetime.now(timezone.utc)
        roll = self.rng.random()
        with self.lock:
            if self.facebook and roll < 0.2:
                what, body = self.generator.messenger_event(now, self.facebook["page_id"])
                return self._post_facebook(what, body)
            if self.phone and roll < 0.35:
                what, fields = self.generator.call_status(now, self.phone["number"], "ACdemo")
                return self._post_call(what, fields)
            what, payload = self.generator.next_payload(now)
        return self._post(what, payload)

    def _post_facebook(self, what: str, body: dict) -> bool:
        raw = json.dumps(body).encode()
        digest = hmac.new(self.facebook["app_secret"].encode(), raw, hashlib.sha256).hexdigest()
        url = f"{self.base_url}/hooks/facebook/{self.facebook['account_id']}/"
        return self._send(what, url, raw, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"})

    def _post_call(self, what: str, fields: dict) -> bool:
        url = f"{self.base_url}/hooks/phone/{self.phone['account_id']}/twilio/status/"
        signature = RequestValidator(self.phone["auth_token"]).compute_signature(url, fields)
        raw = urllib.parse.urlencode(fields).encode()
        return self._send(what, url, raw, {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})

    def _send(self, what: str, url: str, raw: bytes, headers: dict) -> bool:
        request = urllib.request.Request(url, data=raw, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, body = response.status, ""
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            self.stderr.write(f"simulator: server unreachable ({exc}); stopping")
            return False
        line = f"simulator: {status} {what}"
        self.stdout.write(line if status < 400 else f"{line}: {body[:200]}")
        return True

    def _post(self, what: str, payload: dict) -> bool:
        try:
            status, body = post_payload(self.endpoint, self.token, payload)
        except (urllib.error.URLError, OSError) as exc:
            self.stderr.write(f"simulator: server unreachable ({exc}); stopping")
            return False
        if status == 401:
            raise CommandError("simulator: the token was refused (rotated?). Run demo_seed again.")
        line = f"simulator: {status} {what}"
        self.stdout.write(line if status < 400 else f"{line}: {body[:200]}")
        return True

    def _start_receiver(self, host: str, port: int, secret: str | None) -> ReplyReceiver | None:
        if not secret:
            self.stderr.write("simulator: no outbound_secret in var/demo-api.json; not receiving replies")
            return None

        def on_reply(reply: dict) -> None:
            self.stdout.write(f"simulator: received {reply.get('author') or 'an agent'}'s reply in conversation "
                              f"{reply.get('conversation_id')}")
            with self.lock:
                answer = self.generator.answer_to(reply, datetime.now(timezone.utc)) if self.rng.random() < 0.6 else None
                delay = self.rng.uniform(4, 12)
            if answer:  # the customer reads it and writes back a little later
                timer = threading.Timer(delay, self._post, args=answer)
                timer.daemon = True
                timer.start()

        try:
            receiver = ReplyReceiver(host=host, port=port, secret=secret, on_reply=on_reply).start()
        except OSError as exc:
            self.stderr.write(f"simulator: cannot listen on {host}:{port} ({exc}); not receiving replies")
            return None
        self.stdout.write(f"simulator: receiving the API channel's replies on http://{host}:{receiver.port}/")
        return receiver

    # --- the stand-ins: the desk's mail, DMs and Messenger messages are delivered, and answered -------

    def _start_standins(self, saved: dict) -> list:
        ports = saved.get("standins")
        if not ports:
            self.stderr.write("simulator: no stand-in ports in var/demo-api.json (run demo_seed again); no stand-ins")
            return []
        graph = GraphServer(port=ports["graph_port"], on_message=self._on_messenger_message)
        for person in people():  # the User Profile API names them (the Facebook poll asks, with Redis and beat)
            graph.profiles[person.psid] = {"first_name": person.first, "last_name": person.last}
        x = XServer(port=ports["x_port"], own=saved["twitter"]["own"], on_dm=self._on_x_dm)
        smtp = SmtpStandin(port=ports["smtp_port"], on_mail=self._on_mail)
        servers = [graph.start(), x.start(), smtp.start()]
        self.stdout.write(f"simulator: stand-ins listening: SMTP 127.0.0.1:{smtp.port}, X API {x.url}, Graph API {graph.url}")
        return servers

    def _later(self, action, *args) -> None:
        """The customer reads it and writes back a little later (a daemon timer: Ctrl-C does not wait)."""
        with self.lock:
            delay = self.rng.uniform(*self.answer_delay)
        timer = threading.Timer(delay, action, args=args)
        timer.daemon = True
        timer.start()

    def _on_mail(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> None:
        to, text = mail_text(raw)
        self.stdout.write(f"simulator: mail from the desk ({mail_from}) to {to} received")
        with self.lock:
            answer_text = self.generator.thanks(text)
        self._later(self._deliver_mail_answer, answer_mail(raw, text=answer_text))

    def _deliver_mail_answer(self, raw: bytes) -> None:
        """Into the desk's own process, signed, through its mail drop: the email channel's import path
        (parse -> ingest, what an IMAP poll does with a fetched mail; apps/demo/views.py)."""
        standins = (demo_api_credentials() or {}).get("standins") or {}
        if not (standins.get("email_account_id") and standins.get("mail_secret")):
            self.stderr.write("simulator: no demo mail drop in var/demo-api.json (run demo_seed again); answer dropped")
            return
        url = f"{self.base_url}/demo/mail/{standins['email_account_id']}/"
        headers = {"Content-Type": "message/rfc822", "X-Centralita-Signature": "sha256=" + signature(standins["mail_secret"], raw)}
        self._send("the customer's answer by email", url, raw, headers)

    def _on_messenger_message(self, psid: str, text: str) -> None:
        if not self.facebook:
            return
        self.stdout.write(f"simulator: Messenger message from the Page to {psid} received")
        with self.lock:
            what, body = self.generator.messenger_answer(datetime.now(timezone.utc), self.facebook["page_id"], psid, text)
        self._later(self._post_facebook, what, body)

    def _on_x_dm(self, event: dict) -> None:
        twitter = (demo_api_credentials() or {}).get("twitter")
        if not twitter:
            return
        own = twitter["own"]["id"]
        user = next((p for p in event["dm_conversation_id"].split("-") if p != own), None)
        if user is None:
            return
        self.stdout.write(f"simulator: X direct message from the account to {user} received")
        with self.lock:
            what, body = self.generator.x_dm_answer(datetime.now(timezone.utc), own, user, event.get("text") or "")
        self._later(self._post_x, what, body, twitter)

    def _post_x(self, what: str, body: dict, twitter: dict) -> bool:
        raw = json.dumps(body).encode()
        digest = base64.b64encode(hmac.new(twitter["consumer_secret"].encode(), raw, hashlib.sha256).digest()).decode()
        url = f"{self.base_url}/hooks/twitter/{twitter['account_id']}/"
        return self._send(what, url, raw, {"Content-Type": "application/json", "x-twitter-webhooks-signature": f"sha256={digest}"})

    def _wait_for_server(self, base_url: str, wait: float) -> None:
        deadline = time.monotonic() + wait
        while True:
            try:
                urllib.request.urlopen(f"{base_url}/login/", timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answered: up
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise CommandError(f"simulator: nothing answers at {base_url} after {wait:.0f}s")
                time.sleep(0.5)

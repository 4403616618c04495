"""manage.py simulate_traffic — keep the demo inbox alive.

POSTs realistic API-channel messages over HTTP to /api/inbound/<account>/ every few
seconds, exactly as an outside system would: new customers, returning demo customers
and replies in threads it started. The account and token come from the last demo_seed
(var/demo-api.json) unless given.
"""
import json
import random
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

from django.core.management.base import BaseCommand, CommandError

from ._demo import TrafficGenerator
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


class Command(BaseCommand):
    help = "POST simulated API-channel messages to a running desk every few seconds."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of the running desk")
        parser.add_argument("--account", type=int, help="API channel account id (default: the demo's)")
        parser.add_argument("--token", help="its inbound token (default: the demo's, from var/demo-api.json)")
        parser.add_argument("--interval", type=float, default=4.0, help="mean seconds between messages")
        parser.add_argument("--count", type=int, default=0, help="stop after this many (0 = run until stopped)")
        parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the server to answer")
        parser.add_argument("--seed", type=int, help="random seed, for a repeatable stream")

    def handle(self, *args, url, account, token, interval, count, wait, seed, **options):
        if account is None or token is None:
            saved = demo_api_credentials()
            if not saved:
                raise CommandError("No --account/--token given and no var/demo-api.json: run `manage.py demo_seed` first.")
            account = account if account is not None else saved["account_id"]
            token = token or saved["token"]
        base_url = url.rstrip("/")
        endpoint = f"{base_url}/api/inbound/{account}/"
        rng = random.Random(seed)
        generator = TrafficGenerator(rng)
        try:
            self._wait_for_server(base_url, wait)
            sent = 0
            while not count or sent < count:
                what, payload = generator.next_payload(datetime.now(timezone.utc))
                try:
                    status, body = post_payload(endpoint, token, payload)
                except (urllib.error.URLError, OSError) as exc:
                    self.stderr.write(f"simulator: server unreachable ({exc}); stopping")
                    return
                if status == 401:
                    raise CommandError("simulator: the token was refused (rotated?). Run demo_seed again.")
                line = f"simulator: {status} {what}"
                self.stdout.write(line if status < 400 else f"{line}: {body[:200]}")
                sent += 1
                if not count or sent < count:
                    # Bursty like real traffic: sometimes two at once, sometimes a long pause.
                    time.sleep(rng.expovariate(1 / interval) if interval > 0 else 0)
        except KeyboardInterrupt:
            pass

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

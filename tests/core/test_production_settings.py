"""DJANGO_ENV=production hardens the desk from the environment; the embedded quick start stays as it was.

Each case starts a fresh `manage.py` process with only the environment given here (settings are
read once, at start-up), as a deployment or `make run` would.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
# 50+ characters, varied: what `check --deploy` asks of a real key.
PRODUCTION_KEY = "k3y-for-tests-only-7Qx9vR2mZp4LwT8sNc6YbH1jFd5GaE0uKi"

PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": PRODUCTION_KEY,
    "ALLOWED_HOSTS": "desk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://desk.example.com",
}

SHOWN = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_REFERRER_POLICY",
]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only what a fresh shell has: no DATABASE_URL/REDIS_URL/SECRET_KEY of the test run leaks in.
    base = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True,
        timeout=120,
    )


def settings_in(env: dict[str, str]) -> dict:
    code = f"from django.conf import settings; import json; print(json.dumps({{n: getattr(settings, n) for n in {SHOWN!r}}}))"
    result = manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_under_the_production_environment():
    # given a production environment with its secret and host
    # when Django's deployment checklist runs
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    # then it finds nothing to warn about
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    # given production mode but no SECRET_KEY (the channel secrets' key would derive from a public default)
    env = {name: value for name, value in PRODUCTION.items() if name != "SECRET_KEY"}
    # when the desk starts
    result = manage("check", env=env)
    # then it refuses, and says what to set
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr and "DJANGO_ENV=production" in result.stderr


def test_production_refuses_the_embedded_default_key():
    env = {**PRODUCTION, "SECRET_KEY": "centralita-embedded-insecure-key-change-me"}
    result = manage("check", env=env)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_turns_on_secure_defaults_and_each_can_be_overridden():
    # given production mode
    secure = settings_in(PRODUCTION)
    # then every switch is on
    assert secure == {
        "DEBUG": False, "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True, "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True, "SECURE_REFERRER_POLICY": "same-origin",
    }
    # when a deployment turns one off and shortens HSTS while it tries it out
    relaxed = settings_in({**PRODUCTION, "SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "300"})
    # then only those change
    assert relaxed == {**secure, "SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 300}


def test_the_embedded_quick_start_needs_nothing_and_serves_plain_http():
    # given nothing set (make run): the embedded key, plain http on 127.0.0.1
    assert manage("check", env={}).returncode == 0
    embedded = settings_in({})
    assert embedded["SECURE_SSL_REDIRECT"] is False and embedded["SESSION_COOKIE_SECURE"] is False
    assert embedded["CSRF_COOKIE_SECURE"] is False and embedded["SECURE_HSTS_SECONDS"] == 0

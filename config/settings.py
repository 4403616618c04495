"""Settings come from the environment.

With nothing set the desk runs embedded: SQLite, an in-memory channel layer and
Celery tasks executed in-process. DATABASE_URL and REDIS_URL switch it to
PostgreSQL, the Redis channel layer and real Celery workers.
"""
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="centralita-embedded-insecure-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy the public URL (webhook signatures) needs these.
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "apps.core",
    "apps.accounts",
    "apps.crm",
    "apps.connectors",
    "apps.connectors.webform",
    "apps.inbox",
    "apps.routing",
    "apps.sla",
    "apps.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'centralita.sqlite3'}")
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
    # WAL + a busy timeout let the web server and the traffic simulator share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    # Bounded persistent connections: ASGI servers open one per thread otherwise.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # PostgreSQL's JIT compiles any plan estimated expensive, ~0.5 s each time: the inbox search's
    # subplans are estimated so, yet run in milliseconds. Off for this short-query (OLTP) workload.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis"))

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"  # the desk's sign-in page (apps/inbox/urls.py)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Redis: channel layer, cache, Celery ------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
EMBEDDED = not REDIS_URL

if REDIS_URL:
    _redis_db = urlsplit(REDIS_URL).path.strip("/") or "0"
    # The pub/sub layer holds group fan-out under load (see shared PERFORMANCE notes).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Redis pub/sub ignores the database number: the prefix keeps deployments (and test
            # runs) that share a Redis server on different databases from hearing each other.
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env("CHANNEL_LAYER_PREFIX", default=f"asgi-db{_redis_db}")},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = True
# Tests give a desk server process a queue of its own (its tasks reach only that test's worker).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the DB connection after every task unless told to reuse it.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Safety net: webhooks nudge the drain on commit; this picks up anything left behind.
    "drain-inbound": {"task": "apps.connectors.tasks.inbound_drain", "schedule": 5.0},
    "replies-requeue-stale": {"task": "apps.inbox.tasks.replies_requeue_stale", "schedule": 300.0},
    # Fans out one IMAP poll per enabled email account (each backs off after failures).
    "email-poll-all": {"task": "apps.connectors.email.tasks.email_poll_all", "schedule": 60.0},
    # Polling is Twitter's main path (webhooks need the top API tier); each account honours its 429 reset.
    "twitter-poll-all": {"task": "apps.connectors.twitter.tasks.twitter_poll_all", "schedule": 60.0},
    # Facebook pushes by webhook; this poll is the fallback that picks up missed events.
    "facebook-poll-all": {"task": "apps.connectors.facebook.tasks.facebook_poll_all", "schedule": 300.0},
    # Snoozed conversations whose time came back to the queue (open).
    "conversations-wake-snoozed": {"task": "apps.inbox.tasks.conversations_wake_snoozed", "schedule": 60.0},
}
# Task modules outside the apps' own tasks.py (autodiscovery only finds <app>/tasks.py).
CELERY_IMPORTS = ["apps.connectors.email.tasks", "apps.connectors.twitter.tasks", "apps.connectors.facebook.tasks"]

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Centralita API",
    "DESCRIPTION": "Omnichannel contact-center desk: customers, conversations, messages, inbound API.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a `kind` / `status` with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": "apps.inbox.models.Message.Kind",
        "MessageCreateKindEnum": "apps.inbox.api.MESSAGE_CREATE_KINDS",
        "ChannelKindEnum": "apps.connectors.models.ChannelKind",
        "ConversationStatusEnum": "apps.inbox.models.Conversation.Status",
        "MergeSuggestionStatusEnum": "apps.crm.models.MergeSuggestion.Status",
        "MessageDirectionEnum": "apps.inbox.models.Message.Direction",
        "CallDirectionEnum": "apps.connectors.phone.api.CALL_DIRECTIONS",
    },
}

# --- Centralita -----------------------------------------------------------------
# Comma-separated Fernet keys, newest first (rotation). Derived from SECRET_KEY if unset.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="ES")
# Phone channel (README "Phone calls: Twilio and Asterisk"). The public origin Twilio calls
# (https://desk.example.com): webhook signatures are checked against it behind a proxy.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")
# Master.csv times are the PBX's local time; UTC when cdr.conf has usegmtime=yes.
ASTERISK_TIMEZONE = env("ASTERISK_TIMEZONE", default="") or TIME_ZONE
ASTERISK_EXTENSION_MAX_DIGITS = env.int("ASTERISK_EXTENSION_MAX_DIGITS", default=5)
# Manual call logs go to this phone account (id); unset: the first enabled phone account.
PHONE_MANUAL_ACCOUNT_ID = env.int("PHONE_MANUAL_ACCOUNT_ID", default=None)
# Social channels: addresses written in a message join a customer's identities, except these
# (the brand's own domains, e.g. "tienda.example", which customers quote to each other).
OWN_EMAIL_DOMAINS = env.list("OWN_EMAIL_DOMAINS", default=[])
INBOUND_MAX_PAYLOAD_BYTES = env.int("INBOUND_MAX_PAYLOAD_BYTES", default=1_000_000)
INBOUND_BATCH_SIZE = env.int("INBOUND_BATCH_SIZE", default=500)
MESSAGE_MAX_TEXT_CHARS = env.int("MESSAGE_MAX_TEXT_CHARS", default=100_000)
# Django itself refuses bodies past this (plain 400); below it the inbound views answer 413 and
# keep the oversize payload as a dead letter, so this sits well above the inbound limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = INBOUND_MAX_PAYLOAD_BYTES * 4
# Public web forms (/f/<slug>/): submissions per client IP (COUNT/WINDOW, units s m h d), and how
# many proxies in front of the desk append to X-Forwarded-For (0: trust only REMOTE_ADDR).
WEBFORM_RATE_LIMIT = env("WEBFORM_RATE_LIMIT", default="5/10m")
WEBFORM_TRUSTED_PROXIES = env.int("WEBFORM_TRUSTED_PROXIES", default=0)

# --- the inbox (apps/inbox, apps/sla, apps/accounts presence) ---------------------------
# First-response target in minutes per priority (3 urgent .. 0 low); "warning" from the ratio on.
SLA_FIRST_RESPONSE_MINUTES = {3: 15, 2: 60, 1: 240, 0: 1440}
SLA_WARNING_RATIO = 0.75
# Live events kept for GET /api/events/?after= (resync after a dropped socket): the newest N.
EVENT_LOG_SIZE = env.int("EVENT_LOG_SIZE", default=20_000)
# A socket refreshes its presence entry every HEARTBEAT seconds; entries of a process that died
# expire after TTL seconds, so a crashed server cannot keep an agent "online" for long.
PRESENCE_HEARTBEAT_SECONDS = 30
PRESENCE_TTL_SECONDS = 90
# Files an agent attaches to a reply or note (multipart files[]).
REPLY_ATTACHMENTS_MAX_FILES = 10
REPLY_ATTACHMENT_MAX_BYTES = env.int("REPLY_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

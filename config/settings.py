"""Settings come from the environment.

With nothing set the desk runs embedded: SQLite, an in-memory channel layer and
Celery tasks executed in-process. DATABASE_URL and REDIS_URL switch it to
PostgreSQL, the Redis channel layer and real Celery workers. DJANGO_ENV=production
turns on the HTTPS-only defaults and refuses to start without a real SECRET_KEY.
"""
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# "development" (unset): the embedded quick start and the tests, on plain http://127.0.0.1:8000.
# "production": secure defaults below (HTTPS redirect, HSTS, secure cookies), each still overridable
# by its own variable, and no start without SECRET_KEY.
DJANGO_ENV = env("DJANGO_ENV", default="development")
if DJANGO_ENV not in ("development", "production"):
    raise ImproperlyConfigured(f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}")
PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=False)
# Public in this repository: good for the embedded desk only. It signs sessions and, unless
# FIELD_ENCRYPTION_KEYS is set, derives the key that encrypts channel secrets at rest (apps/core/fields.py).
EMBEDDED_SECRET_KEY = "centralita-embedded-insecure-key-change-me"
SECRET_KEY = env("SECRET_KEY", default="")
if PRODUCTION and SECRET_KEY in ("", EMBEDDED_SECRET_KEY):
    raise ImproperlyConfigured(
        "DJANGO_ENV=production needs SECRET_KEY set to a long random value of your own: it signs sessions and, "
        "unless FIELD_ENCRYPTION_KEYS is set, derives the key that encrypts channel secrets. Generate one with "
        "python -c \"import secrets; print(secrets.token_urlsafe(50))\""
    )
SECRET_KEY = SECRET_KEY or EMBEDDED_SECRET_KEY
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS-terminating proxy the public URL (webhook signatures) needs these.
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# uvicorn believes X-Forwarded-For/-Proto only from these proxies (comma-separated addresses); unset: from
# nobody, so REMOTE_ADDR is the socket's peer (run_desk, tests/live_server.py, Dockerfile, docker-compose.yml).
FORWARDED_ALLOW_IPS = env.list("FORWARDED_ALLOW_IPS", default=[])

# --- HTTPS and cookies: on by default in production, each overridable ---------------
# Behind a TLS-terminating proxy set TRUST_X_FORWARDED_PROTO=true too, or the redirect never ends.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SECURE_REDIRECT_EXEMPT = env.list("SECURE_REDIRECT_EXEMPT", default=[])  # path regexes, e.g. a plain-http health check
# One year once HTTPS works everywhere (try a few minutes first: browsers remember it). Preload only
# matters once the domain is submitted to hstspreload.org, and includeSubDomains is the host's subdomains.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = env.bool("SESSION_COOKIE_HTTPONLY", default=True)
# CSRF_COOKIE_HTTPONLY stays False (Django's default): the desk's static/desk/http.js reads the cookie to send X-CSRFToken.
SECURE_REFERRER_POLICY = env("SECURE_REFERRER_POLICY", default="same-origin")

# --- Content-Security-Policy (django-csp) on every page -------------------------------------------
# Nothing inline: the desk's, web forms' and admin's scripts and styles are static files (no
# 'unsafe-inline', no nonces needed). 'self' in connect-src covers the desk's ws:/wss: socket on the
# same host (CSP level 3; checked in a real browser by tests/browser/test_csp.py). Images: the desk's
# own and data: URIs; attachments are links, not images, so no https:. A sanitized email body sits
# in a srcdoc iframe, which inherits this policy and adds its own stricter one (templates/desk/_message.html).
# Only the web-form embed may be framed: apps/connectors/webform/views.py replaces frame-ancestors.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env("CSP_REPORT_URI", default=""):  # where browsers POST violation reports, if anywhere
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = env("CSP_REPORT_URI")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # full-text search, trigram and unaccent (the help center); inert on SQLite
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from static/, not a CDN
    "channels",
    "axes",
    "csp",
    "apps.core",
    "apps.audit",
    "apps.accounts",
    "apps.crm",
    "apps.connectors",
    "apps.connectors.webform",
    "apps.inbox",
    "apps.routing",
    "apps.sla",
    "apps.reports",
    "apps.integrations",
    "apps.helpcenter",  # knowledge base, public help center, deflection (docs/helpcenter.md)
    "apps.assist",  # suggestions for agents: reads inbox, crm, helpcenter
    "apps.csat",  # satisfaction surveys after a resolution (hears the inbox's events; the inbox never imports it)
    "apps.demo",  # the demo seed, simulator and run_desk: nothing imports it
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before CommonMiddleware: the browser's Accept-Language (visitors, public pages).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "apps.core.middleware.RejectNulQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Needs request.user: a signed-in user's own language and time zone win over the browser's.
    "apps.accounts.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
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
# django-axes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"  # the desk's sign-in page (apps/inbox/urls.py)
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# --- sign-in throttling (django-axes): the desk's /login/ and the admin's ------------------------
# AXES_FAILURE_LIMIT wrong passwords in a row lock that sign-in for AXES_COOLOFF_MINUTES after the last.
# The lock is on the username AND the address together: an attacker guessing from one address cannot
# lock every agent out (the real agent signs in from her own address), and agents behind one office
# NAT do not lock each other out by typos. The cost: guesses spread over many addresses are counted
# per address (AXES_FAILURE_LIMIT per cool-off each); long passwords and the access log cover that.
# There is no password or token endpoint in the REST API (no obtain_auth_token): API tokens are made
# by admins and sessions come from these two forms, so nothing else takes a password to throttle.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a few typos then the right password: the count starts again
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends on time even if she keeps trying
AXES_CLIENT_IP_CALLABLE = "apps.core.net.client_ip"  # the web form's rule: REMOTE_ADDR unless proxies are trusted
AXES_LOCKOUT_CALLABLE = "apps.accounts.lockout.lockout_response"  # the desk's page, 429
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner on every manage.py command; lockouts are logged as warnings (logger "axes")

# --- languages and time zones (docs/languages.md) -----------------------------------------------
# Source strings are English; locale/<lang>/LC_MESSAGES holds the other catalogs (compiled .mo files
# are committed; tests/i18n checks they match the .po files and that nothing is missing).
LANGUAGE_CODE = "en"  # when neither the user's profile nor the browser names a language we speak
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The desk's default time zone: server-rendered times for visitors and for users who chose none.
# Invitation and password-reset links work this long, and once (Django's token machinery).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)
# Invitations and password resets are mailed from here (EMAIL_HOST / EMAIL_PORT / ... configure the SMTP server).
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Centralita <desk@localhost>")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# With no EMAIL_HOST set (the embedded quick start) mails are printed in the server's log instead.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend" if env("EMAIL_HOST", default="")
                    else "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))  # for the file backend
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=15)

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
    # Every process of one desk must share the prefix: a drain clears the web's "drain queued" key.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="")}}
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
    # Snoozed conversations whose time came back to the queue (open).
    "conversations-wake-snoozed": {"task": "apps.inbox.tasks.conversations_wake_snoozed", "schedule": 60.0},
    # SLA warnings and breaches: each fired once, pushed live (apps/sla/services.py).
    "sla-sweep": {"task": "apps.sla.tasks.sla_sweep", "schedule": float(env.int("SLA_SWEEP_SECONDS", default=30))},
    # Agents offline past their team's grace period hand their unanswered work back to the queue.
    "routing-offline-release": {"task": "apps.routing.tasks.agents_offline_release", "schedule": 60.0},
    # Reports: working time of new facts, inbound count deltas merged (apps/reports/facts.py).
    "reports-facts-maintain": {"task": "apps.reports.tasks.facts_maintain", "schedule": 60.0},
    # Outgoing webhooks whose next attempt is due (the first attempt is queued when the event commits).
    "webhooks-retry-due": {"task": "apps.integrations.tasks.webhook_deliveries_retry_due", "schedule": 15.0},
    "webhooks-prune-log": {"task": "apps.integrations.tasks.webhook_deliveries_prune", "schedule": crontab(hour=4, minute=0)},
    # Data protection: resolved conversations older than the retention setting are redacted, nightly.
    "retention-redact": {"task": "apps.crm.tasks.retention_redact", "schedule": crontab(hour=3, minute=30)},
}
# Each channel's own periodic tasks (polls) and task modules come from its channel.py (config/celery.py).

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "apps.core.negotiation.ContentNegotiation",  # unknown ?format= is a 400
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser", "rest_framework.parsers.FormParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.NewestFirstCursorPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    # Swagger UI from drf-spectacular-sidecar's static files: nothing loads from a CDN on the desk's origin.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No validator badge: it is an image from validator.swagger.io (img-src 'self').
    # syntaxHighlight off: its highlighter paints with inline styles, which the CSP (style-src 'self') blocks.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "syntaxHighlight": False},
    "TITLE": "Centralita API",
    "DESCRIPTION": "Omnichannel contact-center desk: customers, conversations, messages, inbound API.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The 400/403/404 every operation really answers, documented once (apps/core/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "apps.core.schema.document_error_responses"],
    # Several models have a `kind` / `status` with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "MessageKindEnum": "apps.inbox.models.Message.Kind",
        "MessageCreateKindEnum": "apps.inbox.api.MESSAGE_CREATE_KINDS",
        "ChannelKindEnum": "apps.connectors.models.ChannelKind",
        "ConversationStatusEnum": "apps.inbox.models.Conversation.Status",
        "MergeSuggestionStatusEnum": "apps.crm.models.MergeSuggestion.Status",
        "MessageDirectionEnum": "apps.inbox.models.Message.Direction",
        "CallDirectionEnum": "apps.connectors.phone.api.CALL_DIRECTIONS",
        "WebhookStateEnum": "apps.integrations.models.WEBHOOK_STATES",
        "WebhookDeliveryStatusEnum": "apps.integrations.models.WebhookDelivery.Status",
        "ArticleStatusEnum": "apps.helpcenter.models.Article.Status",
        "SurveyStatusEnum": "apps.csat.models.Survey.Status",
    },
}

# The reports' covering indexes (INCLUDE columns) are plain indexes on SQLite: fine for the embedded desk.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Centralita -----------------------------------------------------------------
# Comma-separated Fernet keys, newest first (rotation). Derived from SECRET_KEY if unset.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="ES")
# Phone channel (docs/channels/phone.md). The public origin Twilio calls
# (https://desk.example.com): webhook signatures are checked against it behind a proxy.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")
# Customer satisfaction surveys (docs/csat.md). Links in surveys start with PUBLIC_BASE_URL (set it
# in production: the worker that writes them has no request to take the host from).
CSAT_ENABLED = env.bool("CSAT_ENABLED", default=True)
CSAT_MIN_DAYS = env.int("CSAT_MIN_DAYS", default=7)  # at most one survey per customer in this many days
CSAT_LOW_SCORE = env.int("CSAT_LOW_SCORE", default=2)  # a rating at or under it notifies the supervisors
CSAT_REOPEN_ON_LOW = env.bool("CSAT_REOPEN_ON_LOW", default=False)  # ... and reopens the conversation
CSAT_LINK_DAYS = env.int("CSAT_LINK_DAYS", default=14)  # how long a survey's link can be answered
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
# The help center (docs/helpcenter.md): origins allowed to frame /help/...?embed=1 (e.g. https://shop.example),
# and the public suggest / events endpoints' requests per client IP.
HELPCENTER_EMBED_ORIGINS = env.list("HELPCENTER_EMBED_ORIGINS", default=[])
HELPCENTER_SUGGEST_RATE_LIMIT = env("HELPCENTER_SUGGEST_RATE_LIMIT", default="120/10m")

# --- the inbox (apps/inbox, apps/sla, apps/accounts presence) ---------------------------
# SLA targets live in policies and business-hours calendars (apps/sla, /desk/sla/, docs/sla.md).
# Live events kept for GET /api/events/?after= (resync after a dropped socket): the newest N.
EVENT_LOG_SIZE = env.int("EVENT_LOG_SIZE", default=20_000)
# A socket refreshes its presence entry every HEARTBEAT seconds; entries of a process that died
# expire after TTL seconds, so a crashed server cannot keep an agent "online" for long.
PRESENCE_HEARTBEAT_SECONDS = 30
PRESENCE_TTL_SECONDS = 90
# Routing (apps/routing): open or pending conversations an agent holds at most when neither the
# agent nor the team sets a capacity (docs/routing.md).
ROUTING_DEFAULT_CAPACITY = env.int("ROUTING_DEFAULT_CAPACITY", default=10)
# Files an agent attaches to a reply or note (multipart files[]).
REPLY_ATTACHMENTS_MAX_FILES = 10
REPLY_ATTACHMENT_MAX_BYTES = env.int("REPLY_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)

# --- outgoing webhooks (apps/integrations) -----------------------------------------------------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=6)  # per delivery
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", default=30)  # 30 s, 1, 2, 4, 8 min ...
WEBHOOK_RETRY_MAX_SECONDS = env.int("WEBHOOK_RETRY_MAX_SECONDS", default=3600)
# Failures in a row (any delivery) after which an endpoint is paused until an admin resumes it.
WEBHOOK_PAUSE_AFTER_FAILURES = env.int("WEBHOOK_PAUSE_AFTER_FAILURES", default=10)
# Finished deliveries stay in the log (with the receiver's answers) this many days.
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # axes logs every sign-in at INFO (with the username and address masked): only its warnings (lockouts) here.
    # tnefparse logs per winmail.dat (checksums, versions): what matters is in the message's metadata.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}, "tnefparse": {"level": "ERROR"}},
}

# --- the supervisor's room (apps/reports; docs/supervisors.md) -------------------------------------
# Days and hours of the reports and the wallboard's "today": the company's time zone.
REPORTS_TIME_ZONE = env("REPORTS_TIME_ZONE", default="") or TIME_ZONE
# The wallboard is re-sent at most once per interval (leading and trailing edge: the last state always goes out).
WALLBOARD_MIN_INTERVAL_SECONDS = env.float("WALLBOARD_MIN_INTERVAL_SECONDS", default=0.5)
WALLBOARD_LOCK_TTL_SECONDS = 5
# Frequent questions: messages sampled per period, most topics, how long a computed report is kept.
REPORTS_TOPICS_MAX_MESSAGES = env.int("REPORTS_TOPICS_MAX_MESSAGES", default=20_000)
REPORTS_TOPICS_MAX = env.int("REPORTS_TOPICS_MAX", default=12)
REPORTS_TOPICS_CACHE_SECONDS = env.int("REPORTS_TOPICS_CACHE_SECONDS", default=3600)

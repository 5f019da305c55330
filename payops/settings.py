"""payops settings, read from the environment.

Two profiles share this one module:

* embedded default (nothing configured): SQLite under ``var/``, in-memory channel layer,
  Celery tasks run in process, the Stripe-compatible payment simulator as gateway;
* production (``PAYOPS_PRODUCTION=true``): every secret and service URL must be given, and a
  missing one stops the process at start with a message naming it.

Every variable is listed in ``.env.example``.
"""

import importlib.util
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

PRODUCTION = env.bool("PAYOPS_PRODUCTION", default=False)


def _required_in_production(name: str, default: str) -> str:
    """A value that has a development default but must be set explicitly in production."""
    value = env.str(name, default="")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when PAYOPS_PRODUCTION=true (see .env.example)")
    return default


SECRET_KEY = _required_in_production("DJANGO_SECRET_KEY", "insecure-embedded-default-do-not-use-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[] if PRODUCTION else ["*"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when PAYOPS_PRODUCTION=true")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# The address shoppers and Stripe reach payops at; used for return URLs and by the simulator.
PAYOPS_BASE_URL = _required_in_production("PAYOPS_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "orders",
    "webhooks",
    "payops.aws",
    "payops.outbox",
    "payops.mail",
    "payops.staff",
    "payops.apikeys",
    "payops.idempotency",
    "payops.workflow",
]
# `manage.py runserver` serves ASGI (WebSockets too) through daphne where it is installed: the
# embedded profile and the tests (requirements-embedded.txt). Production runs uvicorn.
if importlib.util.find_spec("daphne") is not None:
    INSTALLED_APPS.insert(0, "daphne")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # CORS for /api/ only (CORS_URLS_REGEX); above anything that may answer a request itself.
    "corsheaders.middleware.CorsMiddleware",
    # Errors under /api/ that no API view handled (unknown paths, crashes) as problem+json.
    "payops.api.middleware.ApiProblemMiddleware",
    # payops serves its own assets (no CDN); from STATIC_ROOT in production, from the apps in DEBUG.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A page whose database connection was dropped mid-request: 503 "try again", not a 500.
    "payops.database_unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "payops.urls"
WSGI_APPLICATION = "payops.wsgi.application"
ASGI_APPLICATION = "payops.asgi.application"

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
                "payops.context_processors.payops",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
_database_url = _required_in_production("DATABASE_URL", "")
if not _database_url:
    VAR_DIR.mkdir(exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(_database_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads (web requests, the simulator's webhook deliveries) write at once in the
    # embedded profile: wait for the lock rather than failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    # A file, not memory, so a live test server in another process sees the same test data;
    # one per test run, so two runs on one checkout never share (or delete) each other's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    # A connection pool per process: opening a PostgreSQL connection per request costs more than
    # the webhook insert it serves (measured in bench/webhook_ingest.py) and, under load, runs
    # PostgreSQL out of connections. Size it so processes x max_size stays under max_connections.
    DATABASES["default"]["OPTIONS"] = {
        "pool": {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=8),
            "timeout": env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10.0),
        }
    }
    # A connection the database dropped (restart, failover) is replaced before a request gets it
    # instead of failing that request (issue 13.7): Django has the pool check each connection it
    # hands out (psycopg's check_connection), and checks a persistent one before reusing it.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # The same backend, with a pool that drops all its dead connections at the first one it finds
    # after a failover, instead of waiting 1, 2, 4 s between them (payops/db/postgresql/base.py).
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["ENGINE"] = "payops.db.postgresql"
    # On in production; off by default elsewhere, where tests start threads that never hand
    # their connection back (a pool would run dry) and fork live servers.
    if not env.bool("DATABASE_POOL", default=PRODUCTION):
        DATABASES["default"]["OPTIONS"] = {}
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and channel layer ------------------------------------------------
REDIS_URL = _required_in_production("REDIS_URL", "")

if REDIS_URL:
    CACHES = {
        "default": {
            # Rate-limit counters and briefly cached figures: per process while Redis is away (issue 13.6).
            "BACKEND": "payops.cache.RedisCacheWithLocalFallback",
            "LOCATION": REDIS_URL,
            # An unreachable Redis must cost a request milliseconds, not the OS's connect timeout.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, as long as channels_redis's
            # own blocking pop: the pop then fails now and then and takes a consumer down with it.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5}]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# A hostname even in memory, or kombu warns "No hostname was supplied" at every first send.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded profile runs every task in process, right after commit.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TIMEZONE = "UTC"
# A shipped order counts as delivered this many days after shipping unless staff confirmed it
# earlier (0: only staff confirm deliveries).
PAYOPS_DELIVERED_AFTER_DAYS = env.int("PAYOPS_DELIVERED_AFTER_DAYS", default=7)
CELERY_BEAT_SCHEDULE = {
    "expire-unpaid-orders": {
        "task": "orders.tasks.expire_unpaid_orders",
        "schedule": env.int("PAYOPS_EXPIRY_SWEEP_SECONDS", default=60),
    },
    "settle-abandoned-checkouts": {
        "task": "orders.tasks.settle_abandoned_checkouts",
        "schedule": env.int("PAYOPS_CHECKOUT_SWEEP_SECONDS", default=60),
    },
    "mark-delivered-orders": {"task": "orders.tasks.mark_delivered_orders", "schedule": 3600},
    "submit-requested-refunds": {
        "task": "orders.tasks.submit_requested_refunds",
        "schedule": 60,
    },
    "sweep-webhook-inbox": {
        "task": "webhooks.tasks.sweep_inbox",
        "schedule": env.int("WEBHOOK_SWEEP_SECONDS", default=10),
    },
}

# --- Stripe -------------------------------------------------------------------------------
# The simulator is a Stripe-compatible test-mode API served by payops itself (ADR 0003). It is
# the default when no Stripe key is configured, and it refuses to run beside a live key.
PAYMENT_SIMULATOR = env.bool(
    "PAYMENT_SIMULATOR", default=not PRODUCTION and not env.str("STRIPE_SECRET_KEY", default="")
)
if PAYMENT_SIMULATOR:
    # Installed (its tables, admin and pages under /simulator/, payops/urls.py) only while it is
    # the gateway: nothing of it is on the production path.
    INSTALLED_APPS.append("payops.simulator")
    STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="sk_test_payops_simulator")
    STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="pk_test_payops_simulator")
    STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=["whsec_payops_simulator"])
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default=f"{PAYOPS_BASE_URL}/simulator/stripe")
    if STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_")):
        raise ImproperlyConfigured("PAYMENT_SIMULATOR cannot run with a live Stripe key; unset one of them")
elif env.str("PAYOPS_SECRETS_BACKEND", default="env") == "env":
    # Keys from the environment (development fallback): production must name them here.
    STRIPE_SECRET_KEY = _required_in_production("STRIPE_SECRET_KEY", "")
    STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
    STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRETS", default=[])
    if PRODUCTION and not STRIPE_WEBHOOK_SECRETS:
        raise ImproperlyConfigured("STRIPE_WEBHOOK_SECRETS must be set when PAYOPS_PRODUCTION=true")
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
else:
    # Keys come from Secrets Manager / SSM at run time (payops/aws/secrets.py), never from here.
    STRIPE_SECRET_KEY = ""
    STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
    STRIPE_WEBHOOK_SECRETS = []
    STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300

# --- Webhook inbox ----------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = env.int("WEBHOOK_MAX_BODY_BYTES", default=512 * 1024)
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# A worker holds a row it processes this long, renewed by a heartbeat while its handler runs:
# short, so the rows of a killed worker are taken over by the next sweep (ADR 0014).
WEBHOOK_LEASE_SECONDS = env.int("WEBHOOK_LEASE_SECONDS", default=10)
# The sweep leaves just-received rows to the task enqueued on commit for this long.
WEBHOOK_SWEEP_SETTLE_SECONDS = env.int("WEBHOOK_SWEEP_SETTLE_SECONDS", default=60)
# POST /webhooks/stripe/ is answered on the event loop in front of Django (ADR 0012); on
# PostgreSQL its rows are group-committed by a few connections per server process.
WEBHOOK_GROUP_COMMIT = env.bool(
    "WEBHOOK_GROUP_COMMIT", default=DATABASES["default"]["ENGINE"] == "payops.db.postgresql"
)
WEBHOOK_INGEST_CONNECTIONS = env.int("WEBHOOK_INGEST_CONNECTIONS", default=1)
WEBHOOK_INGEST_MAX_BATCH = env.int("WEBHOOK_INGEST_MAX_BATCH", default=500)
WEBHOOK_INGEST_DB_TIMEOUT_SECONDS = env.float("WEBHOOK_INGEST_DB_TIMEOUT_SECONDS", default=5.0)
# Off only behind a pooler in transaction mode that cannot keep prepared statements (PgBouncer < 1.21).
WEBHOOK_INGEST_PREPARED_STATEMENTS = env.bool("WEBHOOK_INGEST_PREPARED_STATEMENTS", default=True)
# Payments confirmed outside Stripe: source name -> HMAC secret, e.g. "mybank=s3cret,cod=an0ther".
PAYOPS_OUTSIDE_PAYMENT_SECRETS: dict[str, str] = env.dict("PAYOPS_OUTSIDE_PAYMENT_SECRETS", default={})

# --- Orders -------------------------------------------------------------------------------
PAYOPS_CURRENCY = env.str("PAYOPS_CURRENCY", default="JPY")
PAYOPS_MAX_LINE_QUANTITY = env.int("PAYOPS_MAX_LINE_QUANTITY", default=99)
PAYOPS_MAX_CHECKOUT_ITEMS = env.int("PAYOPS_MAX_CHECKOUT_ITEMS", default=50)
# The shop shows 残りわずか ("only a few left") at or below this many units available.
PAYOPS_LOW_STOCK_THRESHOLD = env.int("PAYOPS_LOW_STOCK_THRESHOLD", default=5)
PAYOPS_CHECKOUT_BODY_LIMIT = env.int("PAYOPS_CHECKOUT_BODY_LIMIT", default=16 * 1024)
PAYOPS_KONBINI_EXPIRES_AFTER_DAYS = env.int("PAYOPS_KONBINI_EXPIRES_AFTER_DAYS", default=3)
PAYOPS_BANK_TRANSFER_EXPIRES_AFTER_DAYS = env.int("PAYOPS_BANK_TRANSFER_EXPIRES_AFTER_DAYS", default=7)
# A card order the shopper never confirmed holds stock no longer than this.
PAYOPS_CARD_EXPIRES_AFTER_MINUTES = env.int("PAYOPS_CARD_EXPIRES_AFTER_MINUTES", default=60)
# A shopper may pay again another way for an order whose payment failed, for this many hours
# after placing it (its stock is reserved again if still there).
PAYOPS_PAYMENT_RETRY_HOURS = env.int("PAYOPS_PAYMENT_RETRY_HOURS", default=24)

# Shoppers' WebSocket connection attempts per client address and minute.
PAYOPS_WS_CONNECTS_PER_MINUTE = env.int("PAYOPS_WS_CONNECTS_PER_MINUTE", default=60)

# --- HTTP, i18n, static -------------------------------------------------------------------
# Threads per server process that run Django's HTTP requests (ADR 0013): a request holds one
# thread and, with the pool on, one database connection, so the default is the pool's size.
PAYOPS_HTTP_THREADS = env.int("PAYOPS_HTTP_THREADS", default=env.int("DATABASE_POOL_MAX_SIZE", default=8))
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ja", "日本語")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Uploaded and generated files (product images) go through Django's storage API. The default
# storage keeps them under MEDIA_ROOT and payops serves them itself (payops/media.py), in
# development and production alike; a deployment may point STORAGES at object storage instead.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("PAYOPS_MEDIA_ROOT", default="") or VAR_DIR / "media")
LOGIN_URL = "login"

REST_FRAMEWORK = {
    # Integrations send a per-user token; the dashboard's own calls ride its session (with CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "payops.apikeys.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Closed by default: public endpoints (catalogue, checkout, order by token) open themselves.
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["payops.api.throttling.TokenThrottle"],
    "DEFAULT_PARSER_CLASSES": ["payops.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "payops.api.schema.PayopsAutoSchema",
    "EXCEPTION_HANDLER": "payops.api.problems.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "stripe": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        # Configuring "django" here drops the console handler Django gives it in DEBUG, which
        # printed every warning twice (once there, once through the root handler).
        "django": {"level": "INFO"},
    },
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run inside the web process (./dev up): Celery's INFO line with every task's result
    # drowns the console. Real workers keep it.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # type: ignore[index]

# --- AWS, outbox, mail, secrets -----------------------------------------------------------
# payops/aws/ builds its clients from these when a client is needed (not at import).
# PAYOPS_AWS: "aws" (real AWS, production default), "embedded" (moto started by
# `manage.py aws_embedded_up`, development default), "off" (nothing is sent; rows wait).
PAYOPS_AWS = env.str("PAYOPS_AWS", default="") or ("aws" if PRODUCTION else "embedded")
AWS_ENDPOINT_URL = env.str("AWS_ENDPOINT_URL", default="")
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="ap-northeast-1"))
# botocore's own retries per call (first try included); payops's rows retry on top of these.
AWS_MAX_ATTEMPTS = env.int("AWS_MAX_ATTEMPTS", default=3)
AWS_CONNECT_TIMEOUT_SECONDS = env.float("AWS_CONNECT_TIMEOUT_SECONDS", default=3.0)
AWS_READ_TIMEOUT_SECONDS = env.float("AWS_READ_TIMEOUT_SECONDS", default=10.0)
# Where the embedded moto server tells every payops process its address.
PAYOPS_EMBEDDED_AWS_STATE_FILE = Path(
    env.str("PAYOPS_EMBEDDED_AWS_STATE_FILE", default="") or VAR_DIR / "aws-embedded.json"
)
PAYOPS_EVENT_BUS_NAME = env.str("PAYOPS_EVENT_BUS_NAME", default="payops-orders")
PAYOPS_EVENTS_STACK_NAME = env.str("PAYOPS_EVENTS_STACK_NAME", default="payops-events")
# EventBridge's limit per PutEvents entry and per call (256 KB).
PAYOPS_EVENT_MAX_BYTES = env.int("PAYOPS_EVENT_MAX_BYTES", default=256 * 1024)
PAYOPS_OUTBOX_BATCH_SIZE = env.int("PAYOPS_OUTBOX_BATCH_SIZE", default=50)
PAYOPS_OUTBOX_MAX_ATTEMPTS = env.int("PAYOPS_OUTBOX_MAX_ATTEMPTS", default=10)
PAYOPS_OUTBOX_SWEEP_SECONDS = env.int("PAYOPS_OUTBOX_SWEEP_SECONDS", default=15)
PAYOPS_OUTBOX_RETENTION_DAYS = env.int("PAYOPS_OUTBOX_RETENTION_DAYS", default=14)
PAYOPS_MAIL_FROM = _required_in_production("PAYOPS_MAIL_FROM", "payops demo shop <orders@payops.example>")
PAYOPS_MAIL_CONFIGURATION_SET = env.str("PAYOPS_MAIL_CONFIGURATION_SET", default="")
PAYOPS_MAIL_MAX_ATTEMPTS = env.int("PAYOPS_MAIL_MAX_ATTEMPTS", default=8)
PAYOPS_MAIL_SWEEP_SECONDS = env.int("PAYOPS_MAIL_SWEEP_SECONDS", default=30)
# A mail claimed for sending longer ago than this lost its worker mid-send (see ADR 0006).
PAYOPS_MAIL_SEND_LEASE_SECONDS = env.int("PAYOPS_MAIL_SEND_LEASE_SECONDS", default=600)
PAYOPS_SECRETS_BACKEND = env.str("PAYOPS_SECRETS_BACKEND", default="env")
PAYOPS_SECRETS_ID = env.str("PAYOPS_SECRETS_ID", default="payops/stripe")
PAYOPS_SECRETS_SSM_PATH = env.str("PAYOPS_SECRETS_SSM_PATH", default="/payops/")
PAYOPS_SECRETS_TTL_SECONDS = env.int("PAYOPS_SECRETS_TTL_SECONDS", default=300)
# At most one forced refresh (after a webhook signature failure) per this many seconds.
PAYOPS_SECRETS_MIN_REFRESH_SECONDS = env.int("PAYOPS_SECRETS_MIN_REFRESH_SECONDS", default=30)
# Error reports and log lines never show a loaded secret value, DEBUG or not.
DEFAULT_EXCEPTION_REPORTER_FILTER = "payops.aws.secrets.SecretsExceptionReporterFilter"
LOGGING.setdefault("filters", {})["redact_secrets"] = {"()": "payops.aws.secrets.RedactSecretsFilter"}  # type: ignore[index]
for _handler in LOGGING["handlers"].values():  # type: ignore[attr-defined]
    _handler.setdefault("filters", []).append("redact_secrets")
CELERY_BEAT_SCHEDULE.update(
    {
        "outbox-sweep": {"task": "payops.outbox.tasks.sweep_outbox", "schedule": PAYOPS_OUTBOX_SWEEP_SECONDS},
        "mail-sweep": {"task": "payops.mail.tasks.sweep_mail", "schedule": PAYOPS_MAIL_SWEEP_SECONDS},
    }
)

# --- Workflow (payops/workflow: the engine; orders/workflows: the fulfilment workflow) -----------
# See docs/adr/0007-workflow-engine.md.
# How often the recovery sweep runs: it fails steps whose worker died and sends due steps whose
# message was lost; a step due further ahead than the ETA horizon gets no message until then.
PAYOPS_WORKFLOW_SWEEP_SECONDS = env.int("PAYOPS_WORKFLOW_SWEEP_SECONDS", default=15)
PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS = env.int("PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS", default=900)
# A due step whose message has not run after this long is sent again.
PAYOPS_WORKFLOW_REDISPATCH_SECONDS = env.int("PAYOPS_WORKFLOW_REDISPATCH_SECONDS", default=120)
PAYOPS_WORKFLOW_MAX_RESULT_BYTES = env.int("PAYOPS_WORKFLOW_MAX_RESULT_BYTES", default=64 * 1024)
# The fulfilment workflow: started by order.paid unless disabled.
PAYOPS_FULFILMENT_WORKFLOW = env.bool("PAYOPS_FULFILMENT_WORKFLOW", default=True)
# Stripe often sends a Radar review.opened just after the payment succeeded: wait this long
# before deciding whether the order needs a person's review.
PAYOPS_FULFILMENT_SETTLE_SECONDS = env.int("PAYOPS_FULFILMENT_SETTLE_SECONDS", default=30)
PAYOPS_FULFILMENT_APPROVAL_TIMEOUT_HOURS = env.int("PAYOPS_FULFILMENT_APPROVAL_TIMEOUT_HOURS", default=48)
PAYOPS_FULFILMENT_SHIPMENT_TIMEOUT_DAYS = env.int("PAYOPS_FULFILMENT_SHIPMENT_TIMEOUT_DAYS", default=14)
# Review by staff when the order total (minor units of its currency) is above this, or above the
# second figure for a customer's first paid order; and for these Radar risk levels.
PAYOPS_FULFILMENT_REVIEW_OVER_AMOUNT = env.int("PAYOPS_FULFILMENT_REVIEW_OVER_AMOUNT", default=100_000)
PAYOPS_FULFILMENT_FIRST_ORDER_REVIEW_OVER_AMOUNT = env.int(
    "PAYOPS_FULFILMENT_FIRST_ORDER_REVIEW_OVER_AMOUNT", default=30_000
)
PAYOPS_FULFILMENT_REVIEW_RISK_LEVELS = env.list("PAYOPS_FULFILMENT_REVIEW_RISK_LEVELS", default=["elevated", "highest"])
CELERY_BEAT_SCHEDULE.update(
    {"workflow-sweep": {"task": "payops.workflow.tasks.sweep", "schedule": PAYOPS_WORKFLOW_SWEEP_SECONDS}}
)
# --- end of Workflow settings

# --- API ----------------------------------------------------------------------------------
# The REST API's conventions (auth, throttling, idempotency, CORS, schema): ADR 0008.
# Proxies in front of payops that append to X-Forwarded-For; 0 trusts only the socket address,
# so a client cannot dodge its rate limit by sending the header itself.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("PAYOPS_API_NUM_PROXIES", default=0)
# Anonymous clients per address and endpoint group; token clients per token ("N/sec|min|hour|day").
PAYOPS_API_THROTTLE_RATES = {
    "anon_checkout": env.str("PAYOPS_API_THROTTLE_CHECKOUT", default="30/min"),
    "anon_order_status": env.str("PAYOPS_API_THROTTLE_ORDER_STATUS", default="120/min"),
    "anon_catalogue": env.str("PAYOPS_API_THROTTLE_CATALOGUE", default="600/min"),
    "token": env.str("PAYOPS_API_THROTTLE_TOKEN", default="1200/min"),
}
# Idempotency-Key: an answer is replayed for 24 hours (as Stripe does); a request that died
# with its process holds its key this long before a retry may run it again.
PAYOPS_IDEMPOTENCY_TTL_SECONDS = 24 * 3600
PAYOPS_IDEMPOTENCY_LOCK_SECONDS = env.int("PAYOPS_IDEMPOTENCY_LOCK_SECONDS", default=300)
# A checkout whose order was written but whose PaymentIntent never reached it is settled by a
# sweep after this long (orders/services/checkout_recovery.py): longer than the idempotency lock,
# so a client retrying with its Idempotency-Key continues the order first.
PAYOPS_CHECKOUT_ABANDON_SECONDS = env.int("PAYOPS_CHECKOUT_ABANDON_SECONDS", default=600)
CELERY_BEAT_SCHEDULE["purge-idempotency-keys"] = {
    "task": "payops.idempotency.tasks.purge_expired_idempotency_keys",
    "schedule": 3600,
}
# Browser frontends on other origins, e.g. "https://shop.example.jp,https://app.example.jp".
# Tokens travel in the Authorization header, so no cookies cross origins (no credentials).
CORS_ALLOWED_ORIGINS = env.list("PAYOPS_CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "idempotency-key", "user-agent"]
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After", "WWW-Authenticate"]
CORS_PREFLIGHT_MAX_AGE = 86400
SPECTACULAR_SETTINGS = {
    "TITLE": "payops API",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI and ReDoc from payops's own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.state_machine.OrderStatus",
        "PaymentMethodEnum": "orders.models.payments.PaymentMethod",
        "ShopperPaymentMethodEnum": "orders.api.serializers.checkout.SHOPPER_PAYMENT_METHOD_CHOICES",
        "EventCauseEnum": "orders.models.orders.EventCause",
        "InboxStatusEnum": "webhooks.models.InboxStatus",
        "OutboxStatusEnum": "payops.outbox.models.OutboxStatus",
        "MailStatusEnum": "payops.mail.models.MailStatus",
        "MailTemplateEnum": "payops.mail.models.MailTemplate",
        "StaffLevelEnum": "payops.staff.levels.StaffLevel",
        "ExecutionStatusEnum": "payops.workflow.models.ExecutionStatus",
        "StepStatusEnum": "payops.workflow.models.StepStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "payops.api.schema.describe_api",
    ],
}

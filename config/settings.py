"""Kairos settings: everything an operator may change comes from the environment.

The defaults are the embedded set-up (SQLite, a Celery broker in a folder, no
servers at all). Scale-out is environment only: point DATABASE_URL at PostgreSQL
and CELERY_BROKER_URL at Redis or RabbitMQ. README.md lists every variable.
"""

import contextlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")

# Where the embedded set-up keeps its state: database, broker folder, media, key.
DATA_DIR = Path(env.str("KAIROS_DATA_DIR", default=str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key_from_data_dir() -> str:
    """A key made once and kept in DATA_DIR, so the embedded set-up needs no configuration.

    Processes may start together on a fresh folder: each writes a candidate to a
    file of its own and links it into place, which succeeds for exactly one, and
    all read the one that won. Nobody ever reads a half-written key.
    """
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        candidate = DATA_DIR / f".secret_key.{os.getpid()}"
        candidate.touch(mode=0o600)
        candidate.write_text(secrets.token_urlsafe(50))
        with contextlib.suppress(FileExistsError):
            os.link(candidate, key_file)
        candidate.unlink()
    return key_file.read_text().strip()


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _secret_key_from_data_dir()
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Behind TLS (any real deployment) set DJANGO_SECURE=true: cookies become
# secure, HTTP redirects to HTTPS and `manage.py check --deploy` passes.
SECURE = env.bool("DJANGO_SECURE", default=False)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000 if SECURE else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
X_FRAME_OPTIONS = "DENY"
# Probes and scrapers talk plain HTTP inside the deployment, and follow no redirects.
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "rest_framework_api_key",
    "axes",
    "django_celery_beat",
    "import_export",
    "accounts",
    "posts",
    "scheduling",
    "publishing",
    "analytics",
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
    # Last, as django-axes asks: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

# Wrong passwords (admin sign-in, HTTP Basic on the API) are counted per user name and
# address; after AXES_FAILURE_LIMIT of them that pair is locked out for
# AXES_COOLOFF_MINUTES. A right password resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "config.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'kairos.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE takes the
    # write lock when a transaction starts, so two writers queue on the busy
    # timeout instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": env.int("KAIROS_SQLITE_BUSY_TIMEOUT", default=20),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# ISO dates and times with seconds and zone, shown and typed (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A workspace API key first (integrations); people signed in to the admin, or with
    # HTTP Basic, after. What either may do is accounts/permissions.py's.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "config.api_auth.WorkspaceApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "config.api_auth.LockingBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["config.api_auth.KeyOrStaff"],
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "config.api_parsers.GuardedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["config.api_auth.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "principal": env.str("KAIROS_API_THROTTLE_RATE", default="600/min"),
    },
    "DEFAULT_FILTER_BACKENDS": [
        "config.api_filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kairos API",
    "DESCRIPTION": "Schedule social-media posts and publish them at their moment, exactly once.",
    "VERSION": "1",
    # Swagger UI and Redoc from the pinned drf-spectacular-sidecar: /api/docs/ works
    # without the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two models have a `kind`: each its own enum, named for what it is.
    "ENUM_NAME_OVERRIDES": {
        "ScheduleKindEnum": "scheduling.models.Schedule.Kind",
        "MediaKindEnum": "posts.models.MediaAsset.Kind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.errors_documented",
    ],
}

# KAIROS_LOG_FORMAT=json: one JSON object per line, for a log search (config/logs.py).
LOG_FORMAT = env.str("KAIROS_LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"KAIROS_LOG_FORMAT is {LOG_FORMAT!r}; use plain or json.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "config.logs.ContextFilter"},
        "readiness": {"()": "config.logs.ReadinessAnswerFilter"},
    },
    "formatters": {
        "plain": {
            "()": "config.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Celery logs every task received and finished; with a tick every second that
    # buries everything else. Kairos logs what a tick did when it did something.
    "loggers": {
        **{
            name: {"level": env.str("KAIROS_TASK_LOG_LEVEL", default="WARNING")}
            for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")
        },
        # requests-oauthlib logs token requests and answers, tokens included, at DEBUG.
        "requests_oauthlib": {"level": "WARNING"},
        "django.request": {"filters": ["readiness"]},
    },
}

# --- Kairos -------------------------------------------------------------------

# The address people use to reach this Kairos; sandbox posts link to it.
KAIROS_PUBLIC_URL = env.str("KAIROS_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Beat puts Kairos's own entries back when it starts (publishing/beat.py). Only a beat
# that is not Kairos's turns this off: the benchmark's naive baseline (bench/baseline.py).
KAIROS_BEAT_KEEPS_ENTRIES = env.bool("KAIROS_BEAT_KEEPS_ENTRIES", default=True)
# How often beat runs the dispatch tick, in seconds (fractions allowed).
KAIROS_TICK_SECONDS = env.float("KAIROS_TICK_SECONDS", default=1.0)
# How many due schedules or jobs one tick claims per batch.
KAIROS_DISPATCH_BATCH_SIZE = env.int("KAIROS_DISPATCH_BATCH_SIZE", default=500)
# A queued job whose message has not started by then is sent again (and after each
# resend the wait doubles, up to 32 times).
KAIROS_QUEUED_LEASE = timedelta(seconds=env.int("KAIROS_QUEUED_LEASE_SECONDS", default=60))
# At most this many jobs wait in the broker; the rest wait in the database, where
# priorities still apply and nothing can be lost. Keep it below what the workers
# publish within one queued lease.
KAIROS_MAX_IN_FLIGHT = env.int("KAIROS_MAX_IN_FLIGHT", default=1000)
# How many due jobs one message to a worker carries. A worker claims, and records
# the outcomes of, a whole batch in one transaction each: larger batches cost less
# per post; smaller ones spread a few due posts over more workers.
KAIROS_PUBLISH_BATCH_SIZE = env.int("KAIROS_PUBLISH_BATCH_SIZE", default=20)
# How many of a batch's calls to a remote network a worker process makes at once
# (by default a whole batch's): a batch then waits about one answer's time.
KAIROS_PUBLISH_THREADS = env.int("KAIROS_PUBLISH_THREADS", default=KAIROS_PUBLISH_BATCH_SIZE)
# Hard limit for one publish task (a batch); a job running past its lease is
# recovered. A batch starts no attempt after half of it: the jobs it did not try
# go back to wait, and are sent again at once.
KAIROS_TASK_TIME_LIMIT = env.int("KAIROS_TASK_TIME_LIMIT", default=120)
KAIROS_RUNNING_LEASE = timedelta(seconds=KAIROS_TASK_TIME_LIMIT + 30)
# After an attempt whose outcome is unknown, how long to let the network settle
# before asking it whether the post exists.
KAIROS_RECONCILE_DELAY = timedelta(seconds=env.int("KAIROS_RECONCILE_DELAY_SECONDS", default=10))

# --- Operations: probes and metrics ---------------------------------------------

# How often a worker, and the dispatch tick, record in the database that they are
# alive. The tick writes at most this often per process, not every tick
# (publishing/heartbeats.py); /readyz calls it stalled past this plus 5 ticks.
KAIROS_HEARTBEAT_SECONDS = env.float("KAIROS_HEARTBEAT_SECONDS", default=5.0)
# /readyz fails when a due job has waited this long without being queued: the
# workers are not keeping up, or dispatch is stuck. A burst of due posts waits a
# little by design (KAIROS_MAX_IN_FLIGHT), so keep it well above a burst's drain.
KAIROS_READY_MAX_BACKLOG_SECONDS = env.int("KAIROS_READY_MAX_BACKLOG_SECONDS", default=300)
# Prometheus metrics at /metrics, for a scraper sending `Authorization: Bearer <token>`.
# Empty (the default): /metrics answers 404 and nothing is written for it.
KAIROS_METRICS_TOKEN = env.str("KAIROS_METRICS_TOKEN", default="")
# Web, worker and beat processes each count on their own; prometheus-client adds
# them up from files in one folder, which every process of one deployment must
# share and which must be emptied when the deployment starts (publishing/metrics.py).
# It is read from the environment when prometheus-client is first imported, so it
# is set here, before anything imports it, and inherited by child processes.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="") or (
    str(DATA_DIR / "metrics") if KAIROS_METRICS_TOKEN else ""
)
if PROMETHEUS_MULTIPROC_DIR:
    Path(PROMETHEUS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = PROMETHEUS_MULTIPROC_DIR
# The commit /info reports; images set it at build time (Dockerfile), a checkout
# reads it from .git.
KAIROS_COMMIT = env.str("KAIROS_COMMIT", default="")
# Retention (`manage.py cleanup`, and daily from beat): rows older than this many days
# go, unless something still needs them (analytics/retention.py says what stays).
KAIROS_RETENTION_ATTEMPTS_DAYS = env.int("KAIROS_RETENTION_ATTEMPTS_DAYS", default=90)
KAIROS_RETENTION_JOBS_DAYS = env.int("KAIROS_RETENTION_JOBS_DAYS", default=365)
KAIROS_RETENTION_AUDIT_DAYS = env.int("KAIROS_RETENTION_AUDIT_DAYS", default=365)
KAIROS_RETENTION_SANDBOX_DAYS = env.int("KAIROS_RETENTION_SANDBOX_DAYS", default=30)
KAIROS_RETENTION_METRICS_DAYS = env.int("KAIROS_RETENTION_METRICS_DAYS", default=365)
KAIROS_RETENTION_WEBHOOKS_DAYS = env.int("KAIROS_RETENTION_WEBHOOKS_DAYS", default=30)
# Webhooks (publishing/webhooks.py): a delivery is retried with backoff for this long;
# an endpoint whose deliveries were given up this many times in a row is disabled.
KAIROS_WEBHOOK_RETRY_FOR = timedelta(hours=env.int("KAIROS_WEBHOOK_RETRY_HOURS", default=24))
KAIROS_WEBHOOK_DISABLE_AFTER = env.int("KAIROS_WEBHOOK_DISABLE_AFTER", default=3)
KAIROS_WEBHOOK_RETRY_BASE_SECONDS = env.int("KAIROS_WEBHOOK_RETRY_BASE_SECONDS", default=30)
# Webhooks go to public addresses only: an endpoint whose host resolves to a loopback,
# private, link-local, multicast, reserved or unspecified address is refused, when
# registered and before each delivery. True lets them through (receivers inside your own
# network; the test suite's local receivers).
KAIROS_WEBHOOKS_ALLOW_PRIVATE = env.bool("KAIROS_WEBHOOKS_ALLOW_PRIVATE", default=False)
# How often beat sends what the after-commit doorbells missed, and retries that are due.
KAIROS_EVENTS_SWEEP_SECONDS = env.int("KAIROS_EVENTS_SWEEP_SECONDS", default=60)
# Notifications by e-mail: Django's console backend by default (the worker's log);
# set EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) to send them.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("KAIROS_FROM_EMAIL", default="kairos@localhost")
# Snapshots older than this keep one a day per post (the day's last); see analytics/retention.py.
KAIROS_RETENTION_METRICS_HOURLY_DAYS = env.int("KAIROS_RETENTION_METRICS_HOURLY_DAYS", default=30)
# Each post's metrics are read up to this long after their moment, spread by job id.
KAIROS_METRICS_JITTER_SECONDS = env.int("KAIROS_METRICS_JITTER_SECONDS", default=600)

# OpenTelemetry traces of requests and tasks (config/tracing.py): off unless an OTLP
# endpoint is set, e.g. http://collector:4318; then `pip install -r requirements-otel.txt`.
KAIROS_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")

# --- Networks -------------------------------------------------------------------

# X API v2. Tests and benchmarks point this at the fake X (fakex/).
X_API_BASE_URL = env.str("X_API_BASE_URL", default="https://api.x.com").rstrip("/")
X_WEB_URL = env.str("X_WEB_URL", default="https://x.com").rstrip("/")
X_CONNECT_TIMEOUT = env.float("X_CONNECT_TIMEOUT_SECONDS", default=5.0)
X_READ_TIMEOUT = env.float("X_READ_TIMEOUT_SECONDS", default=20.0)
# Connecting X accounts (OAuth 2.0 with PKCE). The app's keys come from X's developer
# portal; with a secret Kairos is a confidential client (HTTP Basic), without one a
# public client (client_id in the body). Empty X_CLIENT_ID: connecting X is off.
X_CLIENT_ID = env.str("X_CLIENT_ID", default="")
X_CLIENT_SECRET = env.str("X_CLIENT_SECRET", default="")
# Must match, character for character, a callback URL registered for the app.
X_REDIRECT_URI = env.str("X_REDIRECT_URI", default=f"{KAIROS_PUBLIC_URL}/accounts/x/callback/")
X_AUTHORIZE_URL = env.str("X_AUTHORIZE_URL", default="https://x.com/i/oauth2/authorize")
X_TOKEN_URL = env.str("X_TOKEN_URL", default="https://api.x.com/2/oauth2/token")

# Bluesky (AT Protocol). An account is connected with its handle and an app password
# on its PDS (the form offers BLUESKY_PDS_URL); posts go to the account's own PDS,
# public reads (metrics, profiles, handles) to the AppView. Tests point both at the
# fake Bluesky (fakebluesky/).
BLUESKY_PDS_URL = env.str("BLUESKY_PDS_URL", default="https://bsky.social").rstrip("/")
BLUESKY_APPVIEW_URL = env.str("BLUESKY_APPVIEW_URL", default="https://public.api.bsky.app").rstrip(
    "/"
)
BLUESKY_WEB_URL = env.str("BLUESKY_WEB_URL", default="https://bsky.app").rstrip("/")
BLUESKY_CONNECT_TIMEOUT = env.float("BLUESKY_CONNECT_TIMEOUT_SECONDS", default=5.0)
BLUESKY_READ_TIMEOUT = env.float("BLUESKY_READ_TIMEOUT_SECONDS", default=20.0)
BLUESKY_VIDEO_URL = env.str("BLUESKY_VIDEO_URL", default="https://video.bsky.app").rstrip("/")
# How long a publish waits for Bluesky to process a video before trying again later.
BLUESKY_VIDEO_PROCESSING_TIMEOUT = env.float(
    "BLUESKY_VIDEO_PROCESSING_TIMEOUT_SECONDS", default=120.0
)
# Mastodon. Each account names its own instance (kept with its sign-in), so there is
# no API address to set; Kairos registers itself as an app on each instance the first
# time an account there is connected, with this name, website and callback.
MASTODON_CONNECT_TIMEOUT = env.float("MASTODON_CONNECT_TIMEOUT_SECONDS", default=5.0)
MASTODON_READ_TIMEOUT = env.float("MASTODON_READ_TIMEOUT_SECONDS", default=20.0)
MASTODON_CLIENT_NAME = env.str("MASTODON_CLIENT_NAME", default="Kairos")
MASTODON_REDIRECT_URI = env.str(
    "MASTODON_REDIRECT_URI", default=f"{KAIROS_PUBLIC_URL}/accounts/mastodon/callback/"
)
# Facebook Pages and Instagram professional accounts: Meta's Graph API, one app on
# developers.facebook.com for both (Facebook Login). Empty META_APP_ID: connecting them
# is off. The Graph API version is in every path; each lives about two years
# (reference/networks.md), so move META_GRAPH_VERSION on before Meta retires it. Tests
# point the Graph and dialog addresses at the fake (fakemeta/).
META_APP_ID = env.str("META_APP_ID", default="")
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_GRAPH_VERSION = env.str("META_GRAPH_VERSION", default="v27.0")
META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com").rstrip("/")
META_DIALOG_URL = env.str("META_DIALOG_URL", default="https://www.facebook.com").rstrip("/")
META_CONNECT_TIMEOUT = env.float("META_CONNECT_TIMEOUT_SECONDS", default=5.0)
META_READ_TIMEOUT = env.float("META_READ_TIMEOUT_SECONDS", default=30.0)
# Must match, character for character, a "Valid OAuth Redirect URI" of the app.
# A Page video larger than this is uploaded by Kairos in chunks (the Graph API's
# resumable upload) rather than fetched by Meta from a Kairos address.
FACEBOOK_RESUMABLE_VIDEO_BYTES = env.int(
    "FACEBOOK_RESUMABLE_VIDEO_BYTES", default=100 * 1024 * 1024
)
FACEBOOK_REDIRECT_URI = env.str(
    "FACEBOOK_REDIRECT_URI", default=f"{KAIROS_PUBLIC_URL}/accounts/facebook/callback/"
)
INSTAGRAM_REDIRECT_URI = env.str(
    "INSTAGRAM_REDIRECT_URI", default=f"{KAIROS_PUBLIC_URL}/accounts/instagram/callback/"
)
# How long a publish waits for Instagram to prepare a container (a video) before trying
# again later, and how often it asks.
INSTAGRAM_CONTAINER_TIMEOUT = env.float("INSTAGRAM_CONTAINER_TIMEOUT_SECONDS", default=120.0)
INSTAGRAM_CONTAINER_POLL = env.float("INSTAGRAM_CONTAINER_POLL_SECONDS", default=3.0)
# LinkedIn (members and the organizations they administer): one app on
# developers.linkedin.com with the products "Sign In with LinkedIn using OpenID Connect",
# "Share on LinkedIn" and (for organizations) "Community Management API". Empty
# LINKEDIN_CLIENT_ID: connecting LinkedIn is off. Every /rest/ call names a monthly
# LinkedIn-Version, each active about a year (reference/networks.md): move
# LINKEDIN_VERSION on before LinkedIn sunsets it (it then answers 426). Scopes the app
# has no product for make LinkedIn refuse the sign-in: drop the organization ones
# without the Community Management API. Tests point both addresses at fakelinkedin/.
LINKEDIN_CLIENT_ID = env.str("LINKEDIN_CLIENT_ID", default="")
LINKEDIN_CLIENT_SECRET = env.str("LINKEDIN_CLIENT_SECRET", default="")
LINKEDIN_VERSION = env.str("LINKEDIN_VERSION", default="202607")
LINKEDIN_API_BASE_URL = env.str("LINKEDIN_API_BASE_URL", default="https://api.linkedin.com").rstrip(
    "/"
)
LINKEDIN_OAUTH_URL = env.str("LINKEDIN_OAUTH_URL", default="https://www.linkedin.com").rstrip("/")
LINKEDIN_SCOPES = env.str(
    "LINKEDIN_SCOPES",
    default="openid profile w_member_social w_organization_social r_organization_social "
    "rw_organization_admin r_member_postAnalytics",
)
LINKEDIN_CONNECT_TIMEOUT = env.float("LINKEDIN_CONNECT_TIMEOUT_SECONDS", default=5.0)
LINKEDIN_READ_TIMEOUT = env.float("LINKEDIN_READ_TIMEOUT_SECONDS", default=30.0)
# Must match, character for character, an "Authorized redirect URL" of the app.
LINKEDIN_REDIRECT_URI = env.str(
    "LINKEDIN_REDIRECT_URI", default=f"{KAIROS_PUBLIC_URL}/accounts/linkedin/callback/"
)
# How long a publish waits for an organization's uploaded image to become AVAILABLE.
LINKEDIN_IMAGE_TIMEOUT = env.float("LINKEDIN_IMAGE_TIMEOUT_SECONDS", default=60.0)
# How long a publish waits for an uploaded video to become AVAILABLE before trying again
# later (the upload is kept and not sent again).
LINKEDIN_VIDEO_TIMEOUT = env.float("LINKEDIN_VIDEO_TIMEOUT_SECONDS", default=120.0)
# Reconcile a member's interrupted post by sending it again and reading LinkedIn's
# DUPLICATE_POST (publishing/networks/linkedin/adapter.py). Off: such a post goes to staff.
# LinkedIn does not document how long it refuses a repeat; if it ever let one through
# within the hour, the member would have the post twice.
LINKEDIN_MEMBER_DUPLICATE_PROBE = env.bool("LINKEDIN_MEMBER_DUPLICATE_PROBE", default=False)
# How long the signed address of a library file that Meta fetches stays valid.
KAIROS_MEDIA_URL_MAX_AGE = env.int("KAIROS_MEDIA_URL_MAX_AGE_SECONDS", default=3600)

# Fernet keys for network credentials at rest, comma-separated: the first encrypts,
# all decrypt, so a new key goes first and an old one is removed only after
# `manage.py rotate_credentials_key`. Empty (the embedded default): a key derived
# from SECRET_KEY, which then must never change (accounts/crypto.py).
KAIROS_CREDENTIALS_KEYS = env.list("KAIROS_CREDENTIALS_KEYS", default=[])

# --- Cache ---------------------------------------------------------------------

# Shared by every web process and machine: the OAuth connect flow keeps its state and
# PKCE verifier here between the redirect to X and the callback, which another gunicorn
# worker may answer, and the API's throttle counts every request here. A folder cache
# would tie the callback to one machine; an in-memory one to one process. By default
# in the database (its table is made after every `migrate`, accounts/apps.py): a read
# and a write transaction per API request, six statements. KAIROS_CACHE_URL (a Redis
# URL, e.g. the broker's server with another database number) makes that two Redis
# round trips.
KAIROS_CACHE_URL = env.str("KAIROS_CACHE_URL", default="")
if KAIROS_CACHE_URL and not KAIROS_CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(
        "KAIROS_CACHE_URL is not a redis:// or rediss:// URL; leave it empty for the "
        "database cache."
    )
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": KAIROS_CACHE_URL}
        if KAIROS_CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kairos_cache",
            # Culling drops entries at random when full; keep it far from a normal load.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    )
}

# --- Celery ---------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's own writes a message file before filling it; a worker may read it empty.
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    _broker_dir = DATA_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
else:
    # A message not acknowledged within the visibility timeout is delivered again.
    # It must outlast the task's hard time limit, or a slow attempt would be handed
    # to a second worker while the first still runs.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": KAIROS_TASK_TIME_LIMIT * 5}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
# A worker killed mid-task does not requeue the message: the lease sweeper is
# the one retry path, and it reconciles with the network before trying again.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = KAIROS_TASK_TIME_LIMIT
CELERY_TASK_SOFT_TIME_LIMIT = KAIROS_TASK_TIME_LIMIT - 10
CELERY_TASK_ROUTES = {
    "publishing.tasks.dispatch_tick": {"queue": "dispatch"},
    "publishing.tasks.publish_jobs": {"queue": "publish"},
    "publishing.tasks.publish_job": {"queue": "publish"},
    "publishing.tasks.reconcile_job": {"queue": "publish"},
    # Webhooks and notifications have queues of their own: a slow receiver or mail
    # server holds up only them, never publishing.
    "publishing.tasks.events_fan_out": {"queue": "events"},
    "publishing.tasks.events_sweep": {"queue": "events"},
    "publishing.tasks.webhook_deliver": {"queue": "webhooks"},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection before and after every
# task unless this is set: each publish task would open a PostgreSQL connection of
# its own (a backend forked and warmed up per post). Keep it for this many tasks;
# CONN_MAX_AGE and the health check still retire it (config/celery.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

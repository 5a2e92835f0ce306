"""Settings shared by every environment.

Configuration comes from the environment (django-environ). A bad value fails at
start-up with django-environ's ImproperlyConfigured, naming the variable.
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class Env(environ.Env):
    """django-environ, but a value that does not parse names its variable."""

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"Environment variable {var} has a bad value: {exc}") from exc


env = Env()
# A local .env is optional and never committed; real deployments set variables.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files: the docs work offline
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "django_celery_beat",
    "axes",
    "csp",
    # Domain apps, lowest layer first (see the import-linter contract in .importlinter).
    "outbox",
    "accounts",
    "leads",
    "scoring",
    "sla",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.middleware.EagerAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the view into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "leadhandoff.urls"
WSGI_APPLICATION = "leadhandoff.wsgi.application"

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
                "accounts.context_processors.navigation",
            ],
        },
    },
]


def database(default: str | None = None, conn_max_age: int = 0) -> dict:
    """PostgreSQL (15 or later) from DATABASE_URL; there is no other database.

    `make run` starts an embedded PostgreSQL and sets DATABASE_URL itself.
    """
    url = env.str("DATABASE_URL", default=default or "")
    if not url:
        raise ImproperlyConfigured(
            "DATABASE_URL is not set: point it at PostgreSQL 15 or later "
            "(`make run` starts an embedded one for the demo by itself)."
        )
    config = env.db_url_config(url)
    if not config["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured(f"DATABASE_URL must be a PostgreSQL URL (postgres://…), not {config['ENGINE']}.")
    config["ATOMIC_REQUESTS"] = False
    # DATABASE_CONN_MAX_AGE, else the URL's own ?conn_max_age=, else the environment's default.
    # (The URL's value used to be overwritten by the default: the benchmarks asked for persistent
    # connections and got a new PostgreSQL connection, a backend process, per request.)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=config.get("CONN_MAX_AGE", conn_max_age))
    return config


# DATABASES is set by each environment's module (local, test, production) with
# database(): base has no default to fall back on silently.
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.UserWithProfileBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# The currency of every deal value and revenue figure the pages show (ISO 4217 code;
# leadhandoff.money formats it). A code it has no symbol for is written after the figure.
CURRENCY = env("CURRENCY", default="USD").strip().upper()
if len(CURRENCY) != 3 or not CURRENCY.isalpha():
    raise ImproperlyConfigured(f"CURRENCY must be a three-letter ISO 4217 code such as USD, not {CURRENCY!r}.")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media/"

# Largest CSV a marketer may upload in the browser (bytes).
IMPORT_MAX_UPLOAD_BYTES = env.int("IMPORT_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=10 * 1024 * 1024)
# Form fields per request: the definition editor posts 13 per rule, and a definition
# may hold scoring.rules.MAX_RULES (200) rules, so Django's default of 1,000 would
# refuse a large definition with a bare 400 before the editor could say why.
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=4000)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Product settings -------------------------------------------------------
# Hours a rep has to make first contact after assignment (until SLA policies override).
FIRST_CONTACT_SLA_HOURS = env.int("FIRST_CONTACT_SLA_HOURS", default=24)

# The smallest group of nurture-pool leads a sales user (rep, manager) sees a figure
# about: preview counts, histogram bars, pool-rescore counts are rounded down to tens
# and shown as "fewer than N" below it, so no figure singles out one pool lead (issue 16).
POOL_FIGURE_MIN_GROUP = env.int("POOL_FIGURE_MIN_GROUP", default=10)
if POOL_FIGURE_MIN_GROUP < 10:
    raise ImproperlyConfigured("POOL_FIGURE_MIN_GROUP must be at least 10 (figures are rounded down to tens).")
# --- Email and links in it ----------------------------------------------------
# Links in emails (a notification's lead brief) start with this: the address users
# open the app at, without a trailing slash.
DJANGO_SITE_URL = env.str("DJANGO_SITE_URL", default="http://localhost:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LeadHandoff <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The demo and developers read emails on the console (the worker's output);
# production sends them by SMTP (settings.production).
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Outbox delivery (outbox.services.outbox_deliver): give up on a message after this
# many failed attempts (exponential backoff from one minute: the 8th is ~2 hours after the first).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)

# Reverse proxies in front of gunicorn (a TLS proxy: 1). With 0, X-Forwarded-For
# is ignored, so a client cannot name its own address to dodge a lockout or throttle.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Login throttling (django-axes) ------------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username, or from one
# address, logins are refused for AXES_COOLOFF_HOURS; an admin lifts a lockout
# earlier by deleting its "access attempt" in the admin (or `manage.py axes_reset`).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
# The client's address, for lockouts and throttles alike: DRF's reading of
# X-Forwarded-For with NUM_PROXIES (below); see accounts.authentication.client_address.
AXES_CLIENT_IP_CALLABLE = "accounts.authentication.client_address"

# --- API tokens ---------------------------------------------------------------
# A user's token (POST /api/v1/auth/token/) expires this many hours after it was
# issued; integrations use API keys (accounts.IntegrationKey), which do not expire.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 7)

# --- Content-Security-Policy (django-csp) -------------------------------------
# Scripts and stylesheets only from our own origin. Style *attributes* stay
# allowed (style-src-attr): progress bars and column widths set them from the
# template; they cannot run code. Inline <script> and <style> elements are refused
# unless they carry the response's nonce (only the Swagger UI page at
# /api/v1/docs/ does: templates/drf_spectacular/swagger_ui.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "style-src-elem": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        # The favicon is an inline SVG data: URI (base.html).
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ExpiringTokenAuthentication",
        "accounts.authentication.IntegrationKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per user (anonymous: per address); the token endpoint has its own scope so
    # password guessing through it is slow even before django-axes locks out.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
        "token": env("API_THROTTLE_TOKEN", default="10/minute"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Nesting depth limited and NUL / lone surrogates refused before a view sees the data.
    "DEFAULT_PARSER_CLASSES": [
        "leadhandoff.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "leadhandoff.pagination.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "leadhandoff.api.AutoSchema",
    "EXCEPTION_HANDLER": "leadhandoff.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LeadHandoff API",
    "DESCRIPTION": "Leads, engagement events, definitions and the sales queue.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package, not a CDN: the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # One component per choice set, named for what it is.
    "ENUM_NAME_OVERRIDES": {
        "LeadStatusEnum": "leads.models.Status",
        "EventKindEnum": "leads.models.EventKind",
        "TouchKindEnum": "leads.models.TouchKind",
        "TouchOutcomeEnum": "leads.models.TouchOutcome",
        "RepSourceChannelEnum": "leads.models.RepSourceChannel",
        "RejectReasonEnum": "leads.models.RejectReason",
        "OriginEnum": "leads.models.Origin",
        "CustomFieldKindEnum": "leads.models.CustomFieldKind",
        "AnalysisKindEnum": "reports.models.Analysis.Kind",
        "DefinitionStateEnum": "scoring.models.DefinitionVersion.State",
        # Previews and comparison reports share the job model's states.
        "JobStateEnum": "leadhandoff.jobs.Job.State",
        "NotificationKindEnum": "sla.models.EventKind",
        "NotificationChannelEnum": "sla.models.Channel",
    },
}

# --- Celery -----------------------------------------------------------------
# Redis in production and tests; the demo uses kombu's filesystem transport so
# it needs no server (see settings.local).
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
# The API throttles count requests in the cache: shared through Redis when there
# is one (every gunicorn worker sees the same counts), per process otherwise.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Sessions read from the cache, written through to the database: every page used to pay a
# session query (and its ORM compilation) before the view ran; a cache miss or a flushed
# cache falls back to the django_session row, so nobody is logged out by a restart.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The shared job model's recovery task lives in the frame, not in an app's tasks.py.
# sla.notifications.tasks sits in a sub-package, where autodiscovery does not look.
CELERY_IMPORTS = ["leadhandoff.jobs", "sla.notifications.tasks"]
# Background jobs (leadhandoff.jobs): the longest a job may run (a full-pool rescore
# of a million leads, a large import), and how long a silent heartbeat is tolerated
# before beat checks whether its worker died.
JOB_TIME_LIMIT_SECONDS = env.int("JOB_TIME_LIMIT_SECONDS", default=2 * 3600)
JOB_STALE_AFTER_SECONDS = env.int("JOB_STALE_AFTER_SECONDS", default=120)
# Longest a single query of a job may run (leadhandoff.jobs.job_lock sets it on the job's session).
JOB_STATEMENT_TIMEOUT_SECONDS = env.float("JOB_STATEMENT_TIMEOUT_SECONDS", default=600)
# Redis redelivers a message not acknowledged within the visibility timeout (job
# tasks are acks_late): it must outlast the longest job, or a job still running
# would be delivered to a second worker (harmless, the claim skips it, but wasted).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": JOB_TIME_LIMIT_SECONDS + 600}
# The one beat schedule of the product. Each entry: cadence and why.
CELERY_BEAT_SCHEDULE = {
    # Every 15 minutes: behaviour points decay with their half-life, so scores
    # drift over time even without new events; rescoring keeps them honest.
    "rescore-pool-for-decay": {
        "task": "scoring.tasks.rescore_pool",
        "schedule": crontab(minute="*/15"),
    },
    # Every minute: catch leads whose incremental rescore was batched under load.
    "rescore-dirty-leads": {
        "task": "scoring.tasks.rescore_dirty_leads",
        "schedule": 60.0,
    },
    # Every minute: resume background jobs (imports, previews, pool rescores)
    # whose worker died mid-run: queue them again, or fail them after 3 runs.
    "recover-jobs": {
        "task": "leadhandoff.jobs.jobs_recover",
        "schedule": 60.0,
    },
    # Every minute: route promoted leads still waiting in a team's unassigned
    # queue (a rep came back from out-of-office, capacity freed up).
    "route-waiting-leads": {
        "task": "leads.tasks.route_waiting_leads",
        "schedule": 60.0,
    },
    # Nightly at 02:30 UTC: comparison snapshots (everyone, and each team) over the
    # last year, so the reports page opens on yesterday's figures without waiting.
    "comparison-reports-nightly": {
        "task": "reports.tasks.comparison_reports_nightly",
        "schedule": crontab(hour=2, minute=30),
    },
    # Nightly at 02:50 UTC, after the comparison: the cherry-pick index and the credit page
    # (everyone, and each team) over the last 90 days, so the pages open on yesterday's figures.
    "analyses-nightly": {
        "task": "reports.tasks.analyses_nightly",
        "schedule": crontab(hour=2, minute=50),
    },
    # Every minute: retry outbox messages whose delivery failed (backoff in
    # next_attempt_at) or whose after-commit trigger was lost (worker down).
    "deliver-outbox": {
        "task": "outbox.tasks.deliver",
        "schedule": 60.0,
    },
    # Hourly, on the hour: daily digests go out in each user's 08:00 hour, so one
    # run per hour reaches every time zone (half-hour zones on their 08:xx hour).
    "send-notification-digests": {
        "task": "sla.notifications.tasks.send_digests",
        "schedule": crontab(minute=0),
    },
    # Every minute: the first-contact sweep (warnings, breaches, escalations,
    # reassignments); a deadline is acted on within about a minute of passing.
    # /healthz/jobs answers 503 when no sweep finished for SWEEP_STALE_AFTER_SECONDS.
    "sla-sweep": {
        "task": "sla.tasks.sla_sweep",
        "schedule": 60.0,
    },
}
# /healthz/jobs: beat or the workers are down when no sweep finished for this long.
SWEEP_STALE_AFTER_SECONDS = env.int("SWEEP_STALE_AFTER_SECONDS", default=300)
# The SLA dashboard's figures of one scope and period are computed at most this often (the page
# says "as of HH:MM"); 0 computes them on every request. sla.dashboard.selectors.sla_dashboard_cached.
SLA_DASHBOARD_CACHE_SECONDS = env.int("SLA_DASHBOARD_CACHE_SECONDS", default=60)

# --- Logging: everything to stdout so containers and the dev runner show it.
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

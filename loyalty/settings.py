"""One settings file for every environment.

Deploy-specific values come from the environment; with nothing set the app runs on an
embedded default (SQLite in a local file, a Celery broker that needs no server).
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105 (refused below unless DEBUG or tests)
SECRET_KEY = env("SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", default=False)  # safe by default; `make run` sets DEBUG=1
TESTING = "pytest" in sys.modules  # a test run is no deployment: it may use the development key
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY and not TESTING:
    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")  # absolute links in emails

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc assets, served as static files (no CDN)
    "import_export",
    "merchants",
    "members",
    "rewards",
    "campaigns",
    "axes",  # failed sign-ins and lockouts (staff login and admin)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "merchants.middleware.MerchantMiddleware",
    # Last, as django-axes asks: it turns a sign-in refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "loyalty.urls"
WSGI_APPLICATION = "loyalty.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",  # csp_nonce for the few script tags
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "merchants.context_processors.console",
                "rewards.context_processors.owner_attention",  # the owner's alerts and approvals, counted
            ],
        },
    },
]

# Database: SQLite in a local file unless DATABASE_URL says otherwise (postgres://... uses psycopg 3).
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded database allows one writer at a time: take the write lock up front and wait
    # for it instead of failing with "database is locked" when the worker writes too.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;",
    }
    if TESTING:
        # A file, not Django's default in-memory test database: the Celery worker test runs a
        # real worker process, which must open the same database as the test.
        DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
else:
    # A new PostgreSQL connection per request costs several times the throughput: keep them.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "merchants.User"
# django-axes' backend comes first: it refuses a locked-out sign-in before the password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    ],
)
LOGIN_URL = "merchants:login"
LOGIN_REDIRECT_URL = "merchants:home"
LOGOUT_REDIRECT_URL = "merchants:login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # one day for a reset link
INVITATION_MAX_AGE_DAYS = 7
# The counter: a cashier may undo their own last purchase or redemption for this long; later, a manager.
UNDO_MINUTES = env.int("UNDO_MINUTES", default=5)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ms", _("Malay")),
    ("th", _("Thai")),
    ("uk", _("Ukrainian")),
    ("hu", _("Hungarian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND",
            default="django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# Email: printed on the console unless EMAIL_URL names a server (smtp+tls://user:pass@host:587)
# or a folder (filemail:///var/mail/outbox); Django 6.1's MAILERS setting holds the result.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_email_options = {
    "host": _email.get("EMAIL_HOST"),
    "port": _email.get("EMAIL_PORT"),
    "username": _email.get("EMAIL_HOST_USER"),
    "password": _email.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _email.get("EMAIL_USE_TLS"),
    "use_ssl": _email.get("EMAIL_USE_SSL"),
    "file_path": "/" + _email["EMAIL_FILE_PATH"].lstrip("/") if _email.get("EMAIL_FILE_PATH") else None,
}
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {key: value for key, value in _email_options.items() if value is not None},
    }
}
# Text messages: printed on the console by default; members.sms.OutboxBackend keeps them in a folder.
SMS_BACKEND = env("SMS_BACKEND", default="members.sms.ConsoleBackend")
SMS_OUTBOX_DIR = env("SMS_OUTBOX_DIR", default=str(BASE_DIR / ".outbox" / "sms"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Loyalty <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The public sign-up page (/j/<shop>/): sign-ups per client address per hour, and per phone number or
# email per day. Customers on the shop's own Wi-Fi share one address: a busy shop may raise the first.
SIGNUP_PER_ADDRESS_PER_HOUR = env.int("SIGNUP_PER_ADDRESS_PER_HOUR", default=5)
SIGNUP_PER_CONTACT_PER_DAY = env.int("SIGNUP_PER_CONTACT_PER_DAY", default=3)
# The member's sign-in with a one-time code, per window of LOGIN_CODE_WINDOW_MINUTES: codes asked for one
# phone or email (each reaches a real phone or inbox) and from one client address (a family or an office
# shares one), and codes typed from one address and for one phone or email. A code allows 5 tries.
LOGIN_CODE_WINDOW_MINUTES = env.int("LOGIN_CODE_WINDOW_MINUTES", default=15)
LOGIN_CODE_ASKS_PER_CONTACT = env.int("LOGIN_CODE_ASKS_PER_CONTACT", default=3)
LOGIN_CODE_ASKS_PER_ADDRESS = env.int("LOGIN_CODE_ASKS_PER_ADDRESS", default=20)
LOGIN_CODE_CHECKS_PER_CONTACT = env.int("LOGIN_CODE_CHECKS_PER_CONTACT", default=15)
LOGIN_CODE_CHECKS_PER_ADDRESS = env.int("LOGIN_CODE_CHECKS_PER_ADDRESS", default=30)
# The member's details page (it says when another member has a phone or email): saves per hour, per
# member and per client address.
PORTAL_DETAILS_SAVES_PER_HOUR = env.int("PORTAL_DETAILS_SAVES_PER_HOUR", default=10)
# Looking a voucher up by its code (the API's GET /api/v1/redemptions/?code=): codes not found, per hour,
# per API key and per client address. Found codes do not count: a till's honest lookups almost never miss.
VOUCHER_MISSES_PER_KEY_PER_HOUR = env.int("VOUCHER_MISSES_PER_KEY_PER_HOUR", default=60)
VOUCHER_MISSES_PER_ADDRESS_PER_HOUR = env.int("VOUCHER_MISSES_PER_ADDRESS_PER_HOUR", default=60)

# Customer imports: the largest file and row count taken, files up to this many rows are checked and
# imported within the request (bigger ones in a worker, with a progress bar), and rows per chunk.
IMPORT_MAX_MB = env.int("IMPORT_MAX_MB", default=20)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=200_000)
IMPORT_INLINE_ROWS = env.int("IMPORT_INLINE_ROWS", default=1000)
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=2500)
# Campaigns: at most one marketing message per member in this many days.
CAMPAIGN_CAP_DAYS = env.int("CAMPAIGN_CAP_DAYS", default=3)
# Webhooks to addresses on this machine or a private network: refused unless allowed (development, or a
# shop running its own copy on its LAN).
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=DEBUG)
# Sending a campaign is queued as this many tasks at once, each claiming its own batches.
CAMPAIGN_SEND_WORKERS = env.int("CAMPAIGN_SEND_WORKERS", default=2)
# A worker's claim on a batch of campaign messages lasts this long: a worker that died mid-batch leaves
# its unsent messages to the next run once it lapses (longer than a batch of SEND_BATCH takes to send).
CAMPAIGN_CLAIM_SECONDS = env.int("CAMPAIGN_CLAIM_SECONDS", default=600)
# Threads writing a big import's chunks side by side, each on its own connection (rewards.imports.jobs.Pipeline).
# One on SQLite (a single writer anyway) and in tests, whose data the test's own transaction hides from others.
IMPORT_WRITERS = env.int(
    "IMPORT_WRITERS", default=2 if DATABASES["default"]["ENGINE"].endswith("postgresql") and not TESTING else 1
)
# An upload of IMPORT_MAX_MB goes to a temporary file, not memory, past Django's default 2.5 MB.

# Security: behind HTTPS (the default when DEBUG is off) cookies are secure, plain HTTP is
# redirected and HSTS is sent. HTTPS=0 serves a shop's own LAN over plain http.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# Card, invitation and password-reset links carry secrets in their path: never send them to another site.
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Sessions end after this long without a request: a counter tablet left signed in overnight asks for
# the password again in the morning. Use moves the expiry on (loyalty.sessions, which saves the session
# every few minutes of use rather than on every request as SESSION_SAVE_EVERY_REQUEST would).
SESSION_ENGINE = "loyalty.sessions"
SESSION_COOKIE_AGE = 60 * env.int("SESSION_IDLE_MINUTES", default=8 * 60)
SESSION_COOKIE_HTTPONLY = True  # no script reads the session cookie
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"

# Content Security Policy (Django's own middleware): scripts and styles only from our static files, or
# inline with this response's nonce (htmx's and django-htmx's script tags carry it). No inline event
# handlers, no eval (htmx runs with allowEval off), nothing from another host: the app works offline on
# a shop's LAN. Frames: none, like X_FRAME_OPTIONS.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
# The API's docs pages (drf-spectacular's Swagger UI and ReDoc, served from our static files) build their
# styles at run time and draw icons from data: URLs; ReDoc searches in a blob: worker. Only those two
# pages get this policy (loyalty/urls.py). Scripts stay as strict: both pages load only script files.
API_DOCS_CSP = SECURE_CSP | {
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],  # a nonce here would make browsers ignore unsafe-inline
    "img-src": [CSP.SELF, "data:"],
    "worker-src": [CSP.SELF, "blob:"],
}

# Staff sign-in (the console's and the admin's) locks after repeated failures (django-axes). The lock
# is per email and client address together, so someone guessing a shop owner's password locks out only
# themselves, not the owner at the counter. It lifts LOGIN_COOLOFF_MINUTES after the last counted failure;
# tries while locked do not extend it. A successful sign-in clears the count. Members sign in with a
# one-time code (members.portal), which has its own limits.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login forms' field (the user's email), not User.USERNAME_FIELD
AXES_USERNAME_CALLABLE = "merchants.lockout.lockout_username"
AXES_LOCKOUT_CALLABLE = "merchants.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failed attempts are kept (they expire with the cool-off); the audit log records what staff do.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False  # no banner on every manage.py command

# Cache: Redis when there is one (shared by all processes, so a rule change reaches every worker
# at once); otherwise each process's memory, where cached rules live at most a minute.
REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    # Short timeouts: with Redis gone or unreachable a request waits a second at most (loyalty.cache).
    "default": {
        "BACKEND": "loyalty.cache.PooledRedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Celery: Redis in production; with no broker configured, kombu's filesystem transport lets a
# real worker and beat run on a fresh machine with no server at all.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = Path(env("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".celery" / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)  # kombu does not create it
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(CELERY_BROKER_FOLDER.parent / "control"),
    }
else:
    # Redis down: queuing a task from a request gives up within about two seconds (the task is kept in
    # PostgreSQL and queued again by beat, merchants.queue), and a worker keeps reconnecting until it is back.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker outlives a long Redis outage
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = env(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / ".celery" / "beat-schedule")
)
CELERY_BEAT_SCHEDULE = {
    # Each shop's nightly work (expiry, tier review, birthdays, reminders) after its local midnight.
    "rewards-daily": {
        "task": "rewards.tasks.rewards_daily_dispatch_task",
        "schedule": crontab(minute=5),
    },
    # The dashboard's rollups: recent days recounted for every shop (a few hundred rows each).
    "dashboard-rollups": {
        "task": "rewards.tasks.kpis_refresh_dispatch_task",
        "schedule": crontab(minute="*/10"),
    },
    "weekly-digest": {
        "task": "rewards.tasks.digest_dispatch_task",
        "schedule": crontab(minute=20),
    },
    "campaign-triggers": {
        "task": "campaigns.tasks.campaign_triggers_task",
        "schedule": crontab(minute=15),
    },
    "due-campaigns": {
        "task": "campaigns.tasks.campaigns_due_task",
        "schedule": crontab(),  # every minute
    },
    "purge-stale-imports": {
        "task": "rewards.tasks.imports_purge_task",
        "schedule": crontab(minute=37, hour=3),
    },
    "purge-stale-invitations": {
        "task": "merchants.tasks.invitations_purge_task",
        "schedule": crontab(minute=17, hour=3),
    },
    "webhooks-due": {
        "task": "merchants.tasks.webhooks_due_task",
        "schedule": crontab(),  # every minute: retries whose time has come
    },
    # Privacy: members idle for their shop's retention period are erased (shops that set one).
    "privacy-retention": {
        "task": "rewards.tasks.retention_dispatch_task",
        "schedule": crontab(minute=47, hour=2),
    },
    "queued-resend": {
        "task": "merchants.tasks.queued_resend_task",
        "schedule": crontab(),  # every minute: what could not be queued while Redis was down
    },
    # Unusual patterns in each shop's last hours and days, raised as alerts for its owners (rewards.fraud).
    "fraud-alerts": {
        "task": "rewards.tasks.fraud_check_dispatch_task",
        "schedule": crontab(minute=45),
    },
    "idempotency-purge": {
        "task": "merchants.tasks.idempotency_purge_task",
        "schedule": crontab(minute=27, hour=3),
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "merchants.api.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"api_key": env("API_RATE", default="1200/min")},
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty API",
    "DESCRIPTION": (
        "For POS systems and online shops: find and enrol members, record purchases and refunds, redeem "
        "rewards. Authenticate with a shop's API key (`Authorization: Bearer lk_…`); send an "
        "`Idempotency-Key` header with every POST."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

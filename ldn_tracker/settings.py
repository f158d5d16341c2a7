"""
One settings module, read from the environment (12-factor).

With DEBUG off, SECRET_KEY, DATABASE_URL and ALLOWED_HOSTS have no default: a missing one
stops start-up with a message naming it. Every variable is listed in the README.
"""

from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env file fills in what the real environment leaves unset (ENV_FILE=/dev/null ignores it).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _required(name, cast=str, dev_default=None):
    """A setting that production must provide; local development gets a safe default."""
    if name in env.ENVIRON:
        return env.get_value(name, cast=cast)
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is required when DEBUG is off. "
        f"Set it (see the configuration table in README.md) or set DEBUG=true for local use."
    )


SECRET_KEY = _required("SECRET_KEY", dev_default="dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS = _required(
    "ALLOWED_HOSTS", cast=list, dev_default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Behind a TLS proxy: trust its X-Forwarded-Proto, and read the client's address from the
# X-Forwarded-For entries our own proxies (TRUSTED_PROXY_COUNT of them) appended.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "accounts",
    "titration",
    "symptoms",
    "ops",
    "reminders",
    "clinic",
    "privacy",
]

MIDDLEWARE = [
    # First: every response, even a redirect or a refused host, gets a request id and a log line.
    "ops.middleware.RequestLogMiddleware",
    # The header middlewares wrap everything below them, so even an answer made before any
    # view runs (a 400 for a Host not in ALLOWED_HOSTS, the HTTPS redirect) carries them.
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.NoStoreWhenLoggedInMiddleware",
    "accounts.middleware.AllowlistLoginRequiredMiddleware",
    # Clinicians and the admin site need two-factor authentication (issue 6).
    "clinic.middleware.RequireMfaMiddleware",
    "accounts.middleware.PatientTimeZoneMiddleware",
    "accounts.middleware.SessionPolicyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes last, as its documentation asks: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ldn_tracker.urls"
WSGI_APPLICATION = "ldn_tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Databases: PostgreSQL in production and CI (DATABASE_URL); an SQLite file for a local run.
DATABASES = {
    "default": env.db_url_config(
        _required("DATABASE_URL", dev_default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file in a local run.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Values bound by the server, and a statement run five times on a connection is prepared:
    # PostgreSQL plans the same few queries of every patient save once per connection, not
    # on every request (bench/http/cpu.py: a third less of its CPU per dose save). Set false
    # behind a connection pooler that cannot keep prepared statements (PgBouncer in
    # transaction mode before 1.21).
    DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out account or address before any password check.
    "axes.backends.AxesStandaloneBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.password_validation.MaximumLengthValidator"},
    {"NAME": "accounts.password_validation.ClinicianMinimumLengthValidator"},
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "today"
LOGOUT_REDIRECT_URL = "home"

# Views anyone may open without logging in. LoginRequiredMiddleware guards everything else;
# this list is the one place to review what is public.
PUBLIC_VIEW_NAMES = frozenset(
    {
        "home",
        "healthz",
        "account_login",
        "account_logout",
        "account_signup",
        "account_confirm_email",
        "account_email_verification_sent",
        "account_inactive",
        "account_reset_password",
        "account_reset_password_done",
        "account_reset_password_from_key",
        "account_reset_password_from_key_done",
        "admin:login",
        # Reminder emails: the signed confirmation pages and the pause (List-Unsubscribe) link.
        "reminder_action",
        "reminders_pause",
        # The installable app: a browser fetches these before anyone logs in, and a
        # notification's buttons post with their signed token alone.
        "web_manifest",
        "service_worker",
        "reminder_push_action",
        # The second step of a two-factor login: the person is not logged in until it passes.
        "mfa_authenticate",
        # Clinician accounts: sign-up (approved by an administrator) and an administrator's
        # emailed invitation, which sets the password; both come before any account exists.
        "clinic:clinician_signup",
        "clinic:clinician_signup_done",
        "clinic:clinician_invite_accept",
    }
)

# django-allauth: email is the login; the address must be verified before use.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {"reset_password_from_key": "accounts.allauth_forms.ResetPasswordKeyForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
# A new address replaces the old one only once it is confirmed from the email sent to it.
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # mail scanners open links: one click confirms
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_EMAIL_SUBJECT_PREFIX = "Daily Tracker: "  # subjects show on lock screens too
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# Changing the email, the password or two-factor settings asks for the password again;
# downloading all your data and deleting the account do too, unless the login itself is
# this recent (accounts/reauth.py). 10 minutes.
ACCOUNT_REAUTHENTICATION_REQUIRED = True
ACCOUNT_REAUTHENTICATION_TIMEOUT = 600  # accounts/reauth.py: a login this recent counts
# allauth's rate limits, counted per client address (ldn_tracker.client_ip, through the
# adapter) in the shared cache. Axes owns the lockout of one account (5 wrong passwords per
# account and address); these limits bound what one address can try across all accounts, and
# wrong two-factor codes. No limit counts per account alone: that would let anyone lock a
# patient out from anywhere.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",  # login form posts
    "login_failed": "10/m/ip",  # wrong passwords and wrong two-factor codes
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",  # key: the email address asked for
    "reset_password_from_key": "20/m/ip",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}

# allauth MFA: clinicians and administrators must use an authenticator app (TOTP) with
# recovery codes; clinic.middleware.RequireMfaMiddleware enforces it.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "LDN Tracker"
MFA_TOTP_TOLERANCE = 1  # one 30-second step either side: phone clocks drift
MFA_ADAPTER = "accounts.mfa.MfaAdapter"
# Wrong codes allowed in one login before it starts again from the password; a code is
# refused the second time for as long as it is valid (accounts.mfa.MfaAuthenticateForm).
MFA_FORMS = {
    "authenticate": "accounts.mfa.MfaAuthenticateForm",
    "reauthenticate": "accounts.mfa.MfaReauthenticateForm",
    "activate_totp": "accounts.mfa.ActivateTotpForm",
}
MFA_WRONG_CODES_PER_LOGIN = 5

# django-axes: lock an account+address pair out for 15 minutes after 5 failed logins, so
# wrong passwords from elsewhere never lock the owner out of their own address; a password
# reset lifts the lock (accounts.adapter).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "accounts.auth.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "account/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_CLIENT_IP_CALLABLE = "ldn_tracker.client_ip.client_ip"

# Sessions: idle timeout 30 minutes for patients and 15 for clinicians (refreshed on each
# request by accounts.middleware.SessionPolicyMiddleware); 12 hours at most after login.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_IDLE_SECONDS_PATIENT = SESSION_COOKIE_AGE
SESSION_IDLE_SECONDS_STAFF = env.int("SESSION_IDLE_SECONDS_STAFF", default=15 * 60)
SESSION_ABSOLUTE_SECONDS = env.int("SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email (Django 6.1 MAILERS): console in development unless EMAIL_URL is set
# (smtp+tls://user:password@host:587, smtp://127.0.0.1:1025, consolemail://, filemail:///path).
EMAIL_TIMEOUT_SECONDS = env.int("EMAIL_TIMEOUT", default=10)


def _mailer_from_url(url):
    config = environ.Env.email_url_config(url)
    backend = config["EMAIL_BACKEND"]
    if backend.endswith("smtp.EmailBackend"):
        options = {
            "host": config.get("EMAIL_HOST", "localhost"),
            "port": config.get("EMAIL_PORT", 25),
            "username": config.get("EMAIL_HOST_USER", ""),
            "password": config.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": config.get("EMAIL_USE_TLS", False),
            "use_ssl": config.get("EMAIL_USE_SSL", False),
            "timeout": EMAIL_TIMEOUT_SECONDS,
        }
    elif backend.endswith("filebased.EmailBackend"):
        options = {"file_path": config.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")}
    else:
        options = {}
    return {"BACKEND": backend, "OPTIONS": options}


if "EMAIL_URL" in env.ENVIRON:
    MAILERS = {"default": _mailer_from_url(env.str("EMAIL_URL"))}
elif DEBUG:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    raise ImproperlyConfigured(
        "The environment variable EMAIL_URL is required when DEBUG is off "
        "(for example smtp+tls://user:password@mail.example.org:587)."
    )
# The name that signs the account emails (allauth's, and the clinician invitations).
SITE_NAME = env.str("SITE_NAME", default="LDN Tracker")
# The sender's name shows on lock screens and in shared inboxes: it names neither the
# medicine nor the condition.
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Daily Tracker <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: Redis when REDIS_URL is set; otherwise an embedded file-system broker so a local
# run needs nothing installed.
# Production must name its broker: a silent fall-back to files on one host loses tasks.
REDIS_URL = _required("REDIS_URL", dev_default="")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# The cache holds allauth's rate-limit counters and the two-factor codes already used, so
# every web process must see the same one: Redis (a database number of its own, apart from
# the broker's) whenever REDIS_URL is set; one process's memory for a local run. CACHE_URL
# (django-environ's form, e.g. locmemcache://) names another.
REDIS_CACHE_DB = env.int("REDIS_CACHE_DB", default=1)
if "CACHE_URL" in env.ENVIRON:
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif REDIS_URL:
    _broker = urlsplit(REDIS_URL)
    if _broker.path.strip("/") == str(REDIS_CACHE_DB):
        raise ImproperlyConfigured(
            f"REDIS_CACHE_DB={REDIS_CACHE_DB} is the broker's database in REDIS_URL; "
            "give the cache a database number of its own."
        )
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _broker._replace(path=f"/{REDIS_CACHE_DB}").geturl(),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Worker processes. Sending reminders mostly waits on round trips (mail server, database), so
# twice the cores keeps them busy: on 2 cores, 4 processes sent 100,000 reminders 70% faster
# than 2 (bench/reminders/RESULTS.md).
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=4)
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "ops.tasks.heartbeat", "schedule": 30.0},
    # Expired sessions are deleted by Django's clearsessions once a day, at a quiet hour.
    "sessions-clear": {
        "task": "ops.tasks.sessions_clear",
        "schedule": crontab(hour=3, minute=40),
        "options": {"expires": 3 * 3600},
    },
    "automatic-holds": {"task": "titration.tasks.automatic_holds_record", "schedule": 3600.0},
    # Clinic: linked patients whose record changed (doses, diary, plan, safety screen),
    # reviewed for alerts within a minute.
    "clinic-alerts-review": {
        "task": "clinic.tasks.alerts_review_changed",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Accounts whose 7-day deletion grace period is over: erased by a sweeper that claims
    # each row, so an overlapping run does nothing twice.
    "accounts-erase-due": {
        "task": "privacy.tasks.accounts_erase_due",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    # Clinic: each linked patient's time-based alerts (missed doses, gone quiet) and panel
    # row, once per patient-local day; hourly so every time zone is reached soon after its
    # midnight. The sweep claims each patient's row, so an overlap does no work twice.
    "clinic-alerts-sweep": {
        "task": "clinic.tasks.alerts_sweep",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
    # Reminders: every minute on the minute (UTC); a tick older than a minute is dropped,
    # the next one catches up from the database.
    "reminders-tick": {
        "task": "reminders.tasks.tick",
        "schedule": crontab(),
        "options": {"expires": 55},
    },
}

# Reminders
# Links in emails are absolute: production's first allowed host over HTTPS unless set.
SITE_URL = env.str(
    "SITE_URL",
    default="http://localhost:8000" if DEBUG else f"https://{ALLOWED_HOSTS[0]}",
)
REMINDER_MESSAGE_ID_DOMAIN = env.str(
    "REMINDER_MESSAGE_ID_DOMAIN", default=urlsplit(SITE_URL).hostname or "localhost"
)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=500)  # messages per SMTP connection
# Longer than CELERY_TASK_TIME_LIMIT: a row is only taken back from a worker that is gone.
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=300)
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=30)
REMINDER_RETRY_MAX_SECONDS = env.int("REMINDER_RETRY_MAX_SECONDS", default=300)
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=6)
# Web Push (VAPID). `python manage.py vapid_keys` prints a new pair. Without them push is
# off: the settings page offers email only and push rows are never created.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str(
    "VAPID_SUBJECT", default=f"mailto:{parseaddr(DEFAULT_FROM_EMAIL)[1] or 'admin@localhost'}"
)
PUSH_TIMEOUT = env.float("PUSH_TIMEOUT", default=10.0)  # seconds for one push service answer

# Security headers. The Content Security Policy allows only our own files and nonce'd
# scripts; Bootstrap's form controls draw small SVGs from data: URLs.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Plain HTTP is sent to the site's own host, never to the Host header's: the redirect
    # needs no Host check, so even a request with a bad one gets the security headers.
    SECURE_SSL_HOST = urlsplit(SITE_URL).netloc or None
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs go to standard output: JSON lines in production (one per request and per task, with
# the request id, user id, task id and name: ops/logs.py), readable text in development.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "ops.logs.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "ops.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# How long a worker heartbeat counts as alive on /healthz.
WORKER_HEARTBEAT_MAX_AGE = timedelta(seconds=env.int("WORKER_HEARTBEAT_MAX_AGE", default=120))

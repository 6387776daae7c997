"""Settings for IAM Portal, read from the environment.

Every value that differs between a laptop and production comes from an environment variable
(see README "Settings" and `.env.example`). Bad values fail loudly at start-up.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from iam_portal.signin.config import oidc_providers_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

# A `.env` file in the repository root (written by `python3 dev.py run`, or copied from .env.example) fills
# in what the environment leaves unset, so local commands work as the README shows them. Variables set in
# the environment always win.
load_dotenv(BASE_DIR / ".env", override=False)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true/false, 1/0, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_secret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from None
    return os.environ.get(name, "")


DEBUG = env_bool("DEBUG", False)

GENERATE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(64))'"
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set (or DEBUG=true for a local run).")
    SECRET_KEY = "insecure-local-development-key-never-use-in-production"
elif not DEBUG and SECRET_KEY.lower().startswith(("replace-me", "change-me", "changeme", "insecure-")):
    # The example value of .env.example (or a dev key) must never sign production sessions.
    raise ImproperlyConfigured(f"SECRET_KEY is a placeholder; generate a real one: {GENERATE_SECRET}")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
for origin in CSRF_TRUSTED_ORIGINS:
    if not origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"CSRF_TRUSTED_ORIGINS entry {origin!r} must start with http:// or https://."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "csp",
    "ninja",  # serves the OpenAPI page's own static files (no CDN)
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "axes",
    "iam_portal.orgs",
    "iam_portal.identities",
    "iam_portal.access",
    "iam_portal.audit",
    "iam_portal.api",
    "iam_portal.signin",  # after identities: it extends the user admin
]

MIDDLEWARE = [
    "iam_portal.views.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "iam_portal.views.NulCharacterMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "iam_portal.signin.middleware.ProviderFormActionMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "iam_portal.signin.middleware.TwoFactorRequiredMiddleware",
    "iam_portal.htmx.VaryOnHtmxMiddleware",
    "iam_portal.access.middleware.AccessMiddleware",
    "iam_portal.audit.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out sign-in into the lockout page
    "iam_portal.api.middleware.ApiErrorMiddleware",
]

ROOT_URLCONF = "iam_portal.urls"
WSGI_APPLICATION = "iam_portal.wsgi.application"

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
                "iam_portal.orgs.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default for a local run; production and CI use PostgreSQL via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs tens of milliseconds and never pays off for short OLTP queries. The IAM tables
    # read a few rows by index from tables that stay cached; at the default random_page_cost (4, spinning
    # disks) the planner hashed a company's 10,000 groups to join 241 memberships (5 ms instead of 2).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off -c random_page_cost=1.1"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent connections buy nothing for a file database and keep test threads holding locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Concurrent use (several requests, threads or processes): readers never wait for the writer (WAL); a
    # transaction takes the write lock when it begins (IMMEDIATE), so two of them never both read and then
    # deadlock upgrading to write, and waits for it up to `timeout` seconds instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "identities.User"
# Staff who are not super users get Django admin permissions from their Console root keys only. Axes comes
# first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "iam_portal.access.backends.RootKeyBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production serves hashed, compressed files built by collectstatic; a local run and the tests read the
# source files directly (STATIC_MANIFEST=false).
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Tests run with DEBUG off but without collectstatic; let whitenoise serve from the finders there.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", not STATIC_MANIFEST)
WHITENOISE_MANIFEST_STRICT = False

# Sessions live in the database so any number of stateless gunicorn processes can serve a user.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Behind TLS in production; a local run (DEBUG) or SECURE_COOKIES=false keeps plain http usable.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = []
if not SECURE_HSTS_PRELOAD:
    # Preloading is a browser-vendor commitment for the whole domain, so it stays an explicit opt-in.
    SILENCED_SYSTEM_CHECKS.append("security.W021")
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script anywhere: htmx is configured through <meta name="htmx-config">.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# How many rows a table page shows.
PAGE_SIZE = env_int("PAGE_SIZE", 50)

# -- machine API ------------------------------------------------------------------------------------
# RSA private key (PEM) that signs the API's access tokens, from SIGNING_KEY or the file named by
# SIGNING_KEY_FILE. Without one, a key is generated once under SIGNING_KEY_LOCAL_PATH (fine for a laptop
# and the tests; `check --deploy` warns). SIGNING_KEY_PREVIOUS(_FILE) holds the PEM key(s) of the last
# rotation: still published and accepted, never used to sign (README "Machine API").
SIGNING_KEY = env_secret("SIGNING_KEY")
SIGNING_KEY_PREVIOUS = env_secret("SIGNING_KEY_PREVIOUS")
SIGNING_KEY_LOCAL_PATH = BASE_DIR / ".local" / "signing-key.pem"
# The client address used to throttle failed token requests. Behind a proxy (BEHIND_TLS_PROXY) it is the
# last X-Forwarded-For entry, the one the proxy itself appended.
API_CLIENT_ADDRESS_FROM_PROXY = env_bool("BEHIND_TLS_PROXY", False)

# -- Sign-in (iam_portal/signin; README "Single sign-on") ---------------------------------------------

# OpenID Connect providers: a JSON list in OIDC_PROVIDERS (or in the file OIDC_PROVIDERS_FILE); each client
# secret comes from OIDC_<ID>_CLIENT_SECRET or OIDC_<ID>_CLIENT_SECRET_FILE.
OIDC_PROVIDERS = oidc_providers_from_env(env_secret("OIDC_PROVIDERS"), env_secret)
# "everyone", or "superusers": password sign-in only for super users (break-glass), everyone else uses SSO.
PASSWORD_SIGNIN = os.environ.get("PASSWORD_SIGNIN", "everyone").strip().lower()
if PASSWORD_SIGNIN not in {"everyone", "superusers"}:
    raise ImproperlyConfigured(f"PASSWORD_SIGNIN={PASSWORD_SIGNIN!r}: use everyone or superusers.")
# Staff and super users who sign in with a password must use an authenticator app (TOTP).
TWO_FACTOR_REQUIRED_FOR_STAFF = env_bool("TWO_FACTOR_REQUIRED_FOR_STAFF", False)

# django-allauth: sign-in pages, OpenID Connect, TOTP and recovery codes. Only the pages listed in
# iam_portal/signin/urls.py are served; accounts are still created by super users (or JIT per provider).
ACCOUNT_ADAPTER = "iam_portal.signin.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "iam_portal.signin.adapters.SocialAccountAdapter"
MFA_ADAPTER = "iam_portal.signin.adapters.MFAAdapter"
ACCOUNT_FORMS = {"login": "iam_portal.signin.forms.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = True  # the session lasts SESSION_COOKIE_AGE, as before
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[IAM Portal] "
# allauth's own throttle (shared through the database cache below) guards TOTP codes; password failures
# lock the account earlier through django-axes.
ACCOUNT_RATE_LIMITS = {"login_failed": "10/5m/key"}
SOCIALACCOUNT_PROVIDERS = {}  # built from OIDC_PROVIDERS by the adapter
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking by verified email is the adapter's rule
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "IAM Portal"
MFA_TOTP_TOLERANCE = 1  # also the code of the previous or next 30 s, for clock drift and slow typing
MFA_RECOVERY_CODES_SHOW_ONCE = True  # secrets are shown once
MFA_ALLOW_UNVERIFIED_EMAIL = True  # emails are set by super users or verified by the provider

# Rate-limit counters and used TOTP codes live in the database so that every gunicorn worker sees them
# (the table is created by signin's migration 0001).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "signin_cache",
        "OPTIONS": {"MAX_ENTRIES": 100_000},  # Django's 300 would cull live counters under load
    }
}

# django-axes: after LOCKOUT_FAILURES wrong passwords for one account, that account cannot sign in with a
# password for LOCKOUT_MINUTES (every failure meanwhile starts the wait again). Counts live in the database.
# Unlock sooner: `manage.py axes_reset_username EMAIL`.
AXES_FAILURE_LIMIT = env_int("LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOCKOUT_MINUTES", 15))
if AXES_FAILURE_LIMIT < 1 or timedelta(minutes=1) > AXES_COOLOFF_TIME:
    raise ImproperlyConfigured("LOCKOUT_FAILURES and LOCKOUT_MINUTES must be at least 1.")
AXES_LOCKOUT_PARAMETERS = ["username"]
# Axes warns when the IP address is not part of the lockout key. Locking per account is deliberate (as GitLab
# does): behind a proxy every client shares one address, and an attacker rotating addresses gets no more
# guesses at an account.
SILENCED_SYSTEM_CHECKS.append("axes.W006")
AXES_USERNAME_CALLABLE = "iam_portal.signin.lockout.username_of"
AXES_LOCKOUT_CALLABLE = "iam_portal.signin.lockout.locked_out_response"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins are events (signin/events.py), not rows in axes' log

# Mail (password reset). Without EMAIL_HOST no mail is sent and the reset pages are not offered.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually port 465
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", not EMAIL_USE_SSL)  # STARTTLS, usually port 587
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
PASSWORD_RESET_ENABLED = bool(EMAIL_HOST)
if PASSWORD_RESET_ENABLED:
    if not DEFAULT_FROM_EMAIL:
        raise ImproperlyConfigured("EMAIL_HOST is set: set DEFAULT_FROM_EMAIL too (the sender of the mails).")
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other; set one of them.")
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# Days the audit log keeps its events; `manage.py audit_prune` (run it daily) deletes older ones.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 180)
if AUDIT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"AUDIT_RETENTION_DAYS={AUDIT_RETENTION_DAYS} must be at least 1.")

"""Settings, read from the environment (django-environ) with safe development defaults.

Variables: DATABASE_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, CACHE_URL, RATE_LIMIT_*; TIME_ZONE is
fixed to UTC.
See README "Configuration".
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
# The development default is only ever used with DEBUG on; production must set SECRET_KEY.
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-development-only-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "graphene_django",
    "lms",
    "enrollments",
    "apikeys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The staff member's own time zone across the admin (docs/admin.md "Time zone").
    "enrollments.admin.time_zone.StaffTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide admin templates (admin/base_site.html: the time zone in the header, the
        # staff pages' CSS and JS); before the apps' own so that they override django.contrib.admin.
        "DIRS": [BASE_DIR / "config" / "templates"],
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

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
else:
    # SQLite: wait for a writer instead of failing at once, and take the write lock at BEGIN so
    # that two writers never deadlock on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

AUTH_USER_MODEL = "lms.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

GRAPHENE = {
    "SCHEMA": "config.schema.schema",
    "ATOMIC_MUTATIONS": True,
    # Explicitly none: with DEBUG on, graphene-django would add its DjangoDebugMiddleware, which
    # wraps the connection's cursor on the first request and never unwraps it (the schema has
    # no _debug field), so every later query of the process goes through its SQL tracker.
    "MIDDLEWARE": [],
}
# GraphQL API limits (enrollments.graphql.limits; docs/api.md "Limits"). The one place their
# defaults live: every key is required.
GRAPHQL_LIMITS = {
    # Characters of the GraphQL document.
    "MAX_QUERY_LENGTH": env.int("GRAPHQL_MAX_QUERY_LENGTH", default=10_000),
    # Levels of nested fields, the leaf included; the standard introspection query (GraphiQL's)
    # needs 15, the deepest data query 5.
    "MAX_DEPTH": env.int("GRAPHQL_MAX_DEPTH", default=15),
    # Aliased fields per document (each alias can repeat a whole sub-query).
    "MAX_ALIASES": env.int("GRAPHQL_MAX_ALIASES", default=15),
    # Rows per page of a connection, and the page size when neither first nor last is given.
    "MAX_PAGE_SIZE": 100,
    "DEFAULT_PAGE_SIZE": 20,
}
# Rate limits of the GraphQL API per API key and per signed-in user (apikeys.ratelimit;
# docs/reliability.md). Counted in the cache: set CACHE_URL=redis://... in production so that
# every server process shares the budget. The one place their defaults live: every key is
# required.
RATE_LIMIT = {
    "ENABLED": env.bool("RATE_LIMIT_ENABLED", default=True),
    # Operations per client (API key, or signed-in user) and window.
    "QUERIES": env.int("RATE_LIMIT_QUERIES", default=600),
    "MUTATIONS": env.int("RATE_LIMIT_MUTATIONS", default=200),
    "WINDOW_SECONDS": env.int("RATE_LIMIT_WINDOW_SECONDS", default=60),
    # The cache (a CACHES alias) holding the counters, and their key prefix.
    "CACHE": "default",
    "KEY_PREFIX": env("RATE_LIMIT_KEY_PREFIX", default="ratelimit"),
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

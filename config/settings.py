"""Settings, read from the environment (django-environ) with production-safe defaults.

DEBUG is off unless set: a server started with nothing configured refuses to run without a
SECRET_KEY instead of serving the development key. `make demo` writes DEBUG=true to `.env` and
the test suite sets it (tests/settings.py), so the two commands still work from a fresh clone.
Every variable is in the README's "Configuration" table; TIME_ZONE is fixed to UTC.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file (make demo writes DEBUG=true there) fills in what the environment leaves unset.
# ENV_FILE names another file; /dev/null reads none (the tests of the production defaults).
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The development default is only ever used with DEBUG on; production must set SECRET_KEY.
SECRET_KEY = env(
    "SECRET_KEY",
    default="django-insecure-development-only-key-change-me" if DEBUG else environ.Env.NOTSET,
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# A refused CSRF check answers in JSON to a request that asked for JSON (config/errors.py: e.g. a
# GraphQL POST to a path that is not the API's), and with Django's page otherwise.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "graphene_django",
    # CORS for the API's paths (the CORS_* block below); its system checks validate the origins.
    "corsheaders",
    # The fast-path home (enrollments/fastpaths): checks its private signatures when ready.
    "enrollments.fastpaths",
    "lms",
    "enrollments",
    "apikeys",
    # Log-in throttling of the admin (the AXES_* block below).
    "axes",
    # Background jobs (TASKS below): Django's task framework and its database backend.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # Outermost, so that its duration and status cover everything below (config.request_log).
    "config.request_log.RequestLogMiddleware",
    # CORS (the CORS_* block below): before anything that may answer first, so that a preflight
    # to the API is answered here and every answer of the API, errors included, carries the
    # headers an allowed origin needs to read it.
    "corsheaders.middleware.CorsMiddleware",
    # The API's JSON answers gzipped (config.compression: not the admin's HTML, for BREACH);
    # outside every middleware that writes the body, so that it compresses the final one.
    "config.compression.ApiGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy header (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Serves collectstatic's output (STATIC_ROOT) from the app itself, before sessions and auth.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A NUL in an admin page's query string is a 400 before any list passes it to the database
    # (config.admin_query_guard).
    "config.admin_query_guard.AdminQueryGuardMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the pages people read (lms.language: Django's LocaleMiddleware for the
    # admin, the browser's Accept-Language, else LANGUAGE_CODE); every other path (the GraphQL
    # API, the probes) answers in the contract's English whatever the request asks. After
    # sessions, before CommonMiddleware, where Django's docs put it.
    "lms.language.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The staff member's own language (User.language), when set, over the browser's.
    "lms.language.UserLanguageMiddleware",
    # The staff member's own time zone across the admin (docs/admin.md "Time zone").
    "enrollments.admin.time_zone.StaffTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out log-in into its 429 answer.
    "axes.middleware.AxesMiddleware",
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
    # A database host that does not answer fails a request (and /readyz) after this many
    # seconds instead of hanging a worker for the kernel's TCP timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    )
else:
    # SQLite: wait for a writer instead of failing at once, and take the write lock at BEGIN so
    # that two writers never deadlock on a lock upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
# The reads of GraphQL query documents run on a connection of their own whose statements
# PostgreSQL cancels after this many milliseconds (enrollments.graphql.statement_timeout): the
# same database under a second alias, the timeout set when the connection opens, not per request.
# Mutations, the admin and the commands stay on "default", unbounded. 0 switches it off.
GRAPHQL_STATEMENT_TIMEOUT_MS = env.int("GRAPHQL_STATEMENT_TIMEOUT_MS", default=5_000)
# Seconds an API key's permission set and course roles are kept per process
# (apikeys/permission_cache.py); 0 reads them on every request.
API_KEY_PERMISSION_CACHE_SECONDS = env.float("API_KEY_PERMISSION_CACHE_SECONDS", default=10.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and (
    GRAPHQL_STATEMENT_TIMEOUT_MS > 0
):
    _api_reads_options = dict(DATABASES["default"].get("OPTIONS", {}))
    _api_reads_options["options"] = " ".join(
        filter(
            None,
            [
                _api_reads_options.get("options"),
                f"-c statement_timeout={GRAPHQL_STATEMENT_TIMEOUT_MS}",
            ],
        )
    )
    DATABASES["api_reads"] = {
        **DATABASES["default"],
        "OPTIONS": _api_reads_options,
        # Tests: the same test database as "default", not one of its own.
        "TEST": {"MIRROR": "default"},
    }
DATABASE_ROUTERS = ["enrollments.graphql.statement_timeout.ApiReadsRouter"]

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # A hung Redis (it accepts connections, never answers) would cost every request redis-py's
    # default timeout (none); the rate limiter's circuit breaker then stops asking it
    # (apikeys.ratelimit). Seconds; a local Redis answers in well under a millisecond.
    # The URL's query (redis://host:6379/0?socket_timeout=5) overrides these.
    _cache_options = CACHES["default"].setdefault("OPTIONS", {})
    _cache_options.setdefault(
        "socket_connect_timeout", env.float("CACHE_CONNECT_TIMEOUT", default=0.1)
    )
    _cache_options.setdefault("socket_timeout", env.float("CACHE_SOCKET_TIMEOUT", default=0.1))
    _cache_options.setdefault("retry_on_timeout", False)

AUTH_USER_MODEL = "lms.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out log-in before any password is checked. Every
    # authenticate() must then pass the request (Django's log-in form does; API keys do not go
    # through authenticate at all, apikeys.auth).
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, answering an API key's user from the permission set kept per key
    # (apikeys.permission_cache).
    "apikeys.permission_cache.CachedPermissionsBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Fast paths that lean on a dependency's private API (enrollments/fastpaths; docs/reliability.md
# "Fast paths"): the names listed here are switched off, `all` switches every one off.
FASTPATHS_DISABLED = env.list("FASTPATHS_DISABLED", default=[])

# Languages (docs/admin.md "Languages"): the admin and the e-mails in English or German, chosen
# per staff member (User.language), else by the browser's Accept-Language, else LANGUAGE_CODE;
# learners' e-mails in the learner's language. Management commands speak LANGUAGE_CODE (Django
# activates no other), so their output is English unless a deployment sets it; the GraphQL API
# always answers in the contract's English. One catalogue for the project: locale/ at the root
# (`make messages` writes it, `make messages-check` checks it).
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en-us")
LANGUAGES = [("en", gettext_lazy("English")), ("de", gettext_lazy("Deutsch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `manage.py collectstatic` copies every static file here; WhiteNoise serves them from there.
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # In production: file names with a content hash (cached for a year by browsers and proxies)
    # and pre-compressed copies (gzip, brotli when installed). It needs collectstatic's manifest,
    # which development and the tests do without (Django serves the app's files directly).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Development and tests: WhiteNoise looks files up per request (the apps' static directories)
# instead of indexing a STATIC_ROOT that collectstatic never filled.
WHITENOISE_AUTOREFRESH = DEBUG
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Reminder e-mails (notify_expiring). EMAIL_URL names the server: smtp://user:pass@host:25,
# smtp+tls://... (STARTTLS, usually port 587), smtp+ssl://... (TLS from the start, port 465);
# percent-encode special characters of the user and password. consolemail:// (the default)
# prints the messages instead. EMAIL_BACKEND, when set, overrides the URL's backend.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# Seconds before a mail server that stopped answering fails the send (the reminder's job retries
# it with backoff, REMINDERS below) instead of blocking the worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="no-reply@localhost")

# Background jobs (enrollments/jobs): django-tasks with its database backend, whose
# `manage.py db_worker` runs them (the Procfile's `worker:`; docs/deploy.md). The jobs live in
# this database, so enqueueing needs nothing more, on SQLite too.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Expiry reminders (enrollments/reminders.py): a send that fails on the mail server is tried
# again after RETRY_BASE_SECONDS x 2^(tries - 1), at most RETRY_MAX_SECONDS, each wait drawn
# between its half and its whole (jitter), up to MAX_ATTEMPTS tries in all; then the reminder
# is failed and logged at ERROR. The sweep (notify_expiring) queues again a reminder whose job
# has not moved it for STALLED_SECONDS: no worker running, or one killed while it sent.
REMINDERS = {
    "MAX_ATTEMPTS": env.int("REMINDER_MAX_ATTEMPTS", default=6),
    "RETRY_BASE_SECONDS": env.float("REMINDER_RETRY_BASE_SECONDS", default=60.0),
    "RETRY_MAX_SECONDS": env.float("REMINDER_RETRY_MAX_SECONDS", default=3600.0),
    "STALLED_SECONDS": env.int("REMINDER_STALLED_SECONDS", default=900),
}
# Runs (enrollments/operations/runs.py): an admin Confirm of more than BACKGROUND_ABOVE rows is
# applied by a job, CHUNK_SIZE rows per transaction; a run whose runner committed nothing for
# STALE_AFTER_SECONDS (a worker killed) is queued again by the sweep (`manage.py jobs sweep`).
RUNS = {
    "BACKGROUND_ABOVE": env.int("RUNS_BACKGROUND_ABOVE", default=5000),
    "CHUNK_SIZE": env.int("RUNS_CHUNK_SIZE", default=2000),
    "STALE_AFTER_SECONDS": env.int("RUNS_STALE_AFTER_SECONDS", default=120),
    "DRAFTS_KEPT_SECONDS": env.int("RUNS_DRAFTS_KEPT_SECONDS", default=24 * 3600),
}

# Webhooks (enrollments/events/delivery.py, docs/webhooks.md): each delivery connects within
# CONNECT_TIMEOUT and waits READ_TIMEOUT for each read of the answer, TOTAL_TIMEOUT in all, of
# which at most MAX_RESPONSE_BYTES are read; a failed one is tried again after RETRY_BASE_SECONDS x
# 2^(tries - 1), at most RETRY_MAX_SECONDS, drawn between its half and its whole, until
# RETRY_WINDOW_SECONDS after its first failure: then it fails and its endpoint is disabled (the
# owner e-mailed; warned once already after WARN_AFTER_SECONDS of failures). A claimed delivery
# whose worker died goes back to pending after LEASE_SECONDS; the sweep (`manage.py jobs sweep`)
# queues again the endpoints whose deliveries waited STALLED_SECONDS past their time. Targets on
# loopback or private networks are refused unless ALLOW_PRIVATE_TARGETS (development, tests);
# plain http only while REQUIRE_HTTPS is off (by default, while DEBUG is on).
WEBHOOKS = {
    "ALLOW_PRIVATE_TARGETS": env.bool("WEBHOOK_ALLOW_PRIVATE_TARGETS", default=False),
    "REQUIRE_HTTPS": env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG),
    "CONNECT_TIMEOUT": env.float("WEBHOOK_CONNECT_TIMEOUT", default=5.0),
    "READ_TIMEOUT": env.float("WEBHOOK_READ_TIMEOUT", default=15.0),
    "TOTAL_TIMEOUT": env.float("WEBHOOK_TOTAL_TIMEOUT", default=30.0),
    "MAX_RESPONSE_BYTES": env.int("WEBHOOK_MAX_RESPONSE_BYTES", default=64 * 1024),
    "RETRY_BASE_SECONDS": env.float("WEBHOOK_RETRY_BASE_SECONDS", default=10.0),
    "RETRY_MAX_SECONDS": env.float("WEBHOOK_RETRY_MAX_SECONDS", default=4 * 3600.0),
    "RETRY_WINDOW_SECONDS": env.int("WEBHOOK_RETRY_WINDOW_SECONDS", default=3 * 24 * 3600),
    "WARN_AFTER_SECONDS": env.int("WEBHOOK_WARN_AFTER_SECONDS", default=24 * 3600),
    "LEASE_SECONDS": env.int("WEBHOOK_LEASE_SECONDS", default=300),
    "STALLED_SECONDS": env.int("WEBHOOK_STALLED_SECONDS", default=300),
}
# Events (enrollments/events): the clock's sweep (`manage.py jobs sweep`) records access that
# starts or ends when its instant passes, looking back this far (an instant older than that when
# the sweep first sees it is not sent).
EVENTS_CLOCK_LOOKBACK_SECONDS = env.int("EVENTS_CLOCK_LOOKBACK_SECONDS", default=86400)
# The learner's data (enrollments/privacy, docs/privacy.md): the periodic sweep (`manage.py jobs
# sweep`, once a day at most) blanks the free-text reasons of audit rows and runs older than this
# many days, keeping every other fact. Unset (the default): reasons are kept.
AUDIT_REASON_RETENTION_DAYS = env.int("AUDIT_REASON_RETENTION_DAYS", default=None)

GRAPHENE = {
    "SCHEMA": "config.schema.schema",
    # Off: each mutation field runs in the core's own transactions, so a document never
    # holds one mutation's row locks while the next waits for others (two documents extending
    # the same two enrollments in opposite order would deadlock). enrollments.retry retries
    # each mutation field on a deadlock or serialization failure.
    "ATOMIC_MUTATIONS": False,
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
    # The query cost model (enrollments.graphql.cost): a document's budget in points, and the
    # weights. Each root field costs COST_ROOT_FIELD (times COST_FETCH_ALL_FACTOR with
    # fetch_all), each `total_count` COST_COUNT, both times COST_COURSE_STATUS_FACTOR when the
    # read filters by course_status; every other value of the answer 1/COST_VALUES_PER_POINT,
    # each times the most items of every list around it (page sizes, fetch_all's cap,
    # MAX_COURSE_ITEMS). Defaults: a page of 20 with every field 2, a page of 100 with every
    # field and its count 10, 15 aliased counts 90, 15 aliased counts by course_status
    # 450 (refused).
    "MAX_COST": env.int("GRAPHQL_MAX_COST", default=100),
    "COST_ROOT_FIELD": 1,
    "COST_COUNT": 5,
    "COST_COURSE_STATUS_FACTOR": 5,
    # `fetch_all` reads up to 1,000 rows (FETCH_ALL_MAX), ten pages: its read costs ten.
    "COST_FETCH_ALL_FACTOR": 10,
    "COST_VALUES_PER_POINT": 1_000,
    # Values a read of a course's items costs (`course_items`, `next_item`, `prev_item`; once
    # per course and request): about what the answer's values take in the same time.
    "COST_ITEMS_READ": 250,
    # Values each object of the answer costs beyond its fields (graphql-core completes each
    # one: collects its fields, checks its type, builds a dict): at one million enrollments
    # 10,000 item objects of 8 fields took 2.1 s where 1,000 memberships of 43 values took
    # 0.3 s: objects, not values alone, take the time. Two levels of course_items (10,000
    # objects) are admitted with one field on the innermost items and refused with two.
    "COST_OBJECT_VALUES": 8,
    # The most items a course may hold: the course admin refuses more, and the cost model
    # prices `course_items` at this many.
    "MAX_COURSE_ITEMS": env.int("GRAPHQL_MAX_COURSE_ITEMS", default=100),
    # The most values the list items of a query's answer may hold (each item's fields): past
    # it the answer is refused with QUERY_TOO_COSTLY, not built (the backstop of the cost
    # model, e.g. for a course holding more items than MAX_COURSE_ITEMS).
    "MAX_RESPONSE_VALUES": env.int("GRAPHQL_MAX_RESPONSE_VALUES", default=200_000),
}
# Persisted documents (enrollments.graphql.persisted; docs/api.md "Persisted queries" and
# "Trusted documents"). Apollo's automatic persisted queries are stored in the cache CACHE (a
# CACHES alias: Redis in production, shared by every worker) under KEY_PREFIX for TIMEOUT
# seconds, bounded by the document length limit and the cache's own eviction. With
# TRUSTED_DOCUMENTS on, only MANIFEST's documents (Apollo's persisted-query manifest JSON) run.
GRAPHQL_PERSISTED_QUERIES = {
    "CACHE": "default",
    "KEY_PREFIX": "apq",
    "TIMEOUT": env.int("GRAPHQL_APQ_TIMEOUT", default=86_400),
    "TRUSTED_DOCUMENTS": env.bool("GRAPHQL_TRUSTED_DOCUMENTS", default=False),
    "MANIFEST": env.str("GRAPHQL_PERSISTED_QUERY_MANIFEST", default=""),
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
    # GraphQL requests per client address and window from clients with neither an API key nor
    # a signed-in session, refused before their document is parsed (TRUSTED_PROXY_COUNT says
    # where the address comes from). 0 switches this budget off.
    "ANONYMOUS": env.int("RATE_LIMIT_ANONYMOUS", default=60),
    "WINDOW_SECONDS": env.int("RATE_LIMIT_WINDOW_SECONDS", default=60),
    # The cache (a CACHES alias) holding the counters, and their key prefix.
    "CACHE": "default",
    "KEY_PREFIX": env("RATE_LIMIT_KEY_PREFIX", default="ratelimit"),
    # The circuit breaker in front of that cache: after this many failures in a row, requests
    # skip the cache (served unlimited) for the cool-down, then one tries it again.
    "BREAKER_FAILURES": env.int("RATE_LIMIT_BREAKER_FAILURES", default=3),
    "BREAKER_COOL_DOWN_SECONDS": env.float("RATE_LIMIT_BREAKER_COOL_DOWN_SECONDS", default=30.0),
}
# How many reverse proxies in front of the app append the address they were called from to
# X-Forwarded-For (nginx's $proxy_add_x_forwarded_for; docs/deploy.md's setup is 1). The client
# address is that many entries from the header's right end: the entries further left are
# whatever the client sent. 0 (the default): the header is not believed, the address is
# REMOTE_ADDR (apikeys.ratelimit.client_address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# Idempotency-Key of GraphQL mutations (apikeys.idempotency; docs/api.md "Retrying a mutation"):
# how long a key's answer is kept and replayed, and how long a reservation whose request
# neither finished nor let go of it (a worker killed mid-request) blocks the key.
IDEMPOTENCY = {
    "TTL_SECONDS": env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 60 * 60),
    "IN_FLIGHT_SECONDS": 60,
}

# Cross-origin requests from browsers (django-cors-headers; docs/api.md "Browsers on other
# origins", docs/deploy.md). Only the API's paths (/graphql and /graphql/) answer CORS, and
# only to the origins listed in CORS_ALLOWED_ORIGINS (scheme://host[:port], comma-separated):
# none by default, so nothing changes until an operator lists one. The admin, GraphiQL's page
# and the health probes never do. No credentials: the API's keys travel in headers, never in
# cookies, so a listed origin's page cannot act with a signed-in staff member's session (the
# browser refuses to read, and to send after a preflight, any request made with cookies).
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/graphql/?$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "POST", "OPTIONS"]
#: What a client of either API sends (apikeys.auth's three key styles, Healthie's version
#: header, apikeys.idempotency's key, a request body's type and encoding, the request id
#: config.request_log keeps), lower case as the library compares them.
CORS_ALLOW_HEADERS = [
    "accept",
    "authorization",
    "authorizationsource",
    "x-teachify-api-key",
    "healthie-graphql-api-version",
    "idempotency-key",
    "content-type",
    "content-encoding",
    "x-request-id",
]
#: The response headers a script may read besides the CORS-safelisted ones: when to retry
#: (429, and 409 for an Idempotency-Key in use), whether an answer was replayed, the request id
#: of a bug report, and the scheme of a 401.
CORS_EXPOSE_HEADERS = ["Retry-After", "Idempotent-Replayed", "X-Request-ID", "WWW-Authenticate"]
#: How long a browser may reuse a preflight's answer (Chromium keeps at most 7200 s).
CORS_PREFLIGHT_MAX_AGE = env.int("CORS_PREFLIGHT_MAX_AGE", default=7200)

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
# Load balancers probe the health routes over plain HTTP, straight to the app server.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# HSTS for every subdomain, and a request to be put in the browsers' preload list, are decisions
# for the owner of the whole domain and hard to take back: off unless asked for. Django's
# deployment check warns about each while it is off (security.W005, W021); that advice is
# silenced here because leaving them off is this project's documented default, not an oversight.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
# The header through which the TLS-terminating proxy tells the app that the client used HTTPS,
# e.g. X-Forwarded-Proto. Trusted only when set: any client can send that header, so only a
# proxy that overwrites it may be believed.
_proxy_ssl_header = env("SECURE_PROXY_SSL_HEADER", default="")
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")

# Content-Security-Policy (django-csp; docs/reliability.md, "Lower findings"), on every
# answer: the admin and GraphiQL load scripts only from this server (no inline script, no eval:
# every project template loads its JS from static files, and Django's admin does too), nothing
# from another host, and no page may frame them. Styles allow inline ones: Django's admin
# templates and widgets (select2, jQuery) and our badges write `style` attributes, which only a
# blanket 'unsafe-inline' allows (a nonce covers <style> elements, not attributes); a style
# cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Log-in throttling (django-axes; docs/deploy.md "Log-in throttling"). After LOGIN_FAILURE_LIMIT
# failed log-ins for one account (the e-mail, in any case), or from one client address (behind
# TRUSTED_PROXY_COUNT proxies: config.login_throttling), that account or address is refused,
# the right password included, for LOGIN_COOL_OFF_MINUTES after the failure that locked it.
# Failures older than the cool-off are forgotten. Counted in the database (axes' default
# handler), not in Redis: shared by every app server, and a cache outage cannot switch it off.
# Staff unlock in the admin (Axes > Access attempts: delete the rows) or with
# `manage.py axes_reset_username EMAIL` / `axes_reset_ip ADDRESS` / `axes_reset`.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOL_OFF_MINUTES", default=15))
# Each parameter on its own: a lock per account and a lock per address.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A failure during a lock-out is refused without being counted: the cool-off runs from the
# locking failure, as documented, instead of restarting at every refused try.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"  # the admin log-in form's field (it holds the e-mail)
AXES_USERNAME_CALLABLE = "config.login_throttling.account"
AXES_CLIENT_IP_CALLABLE = "config.login_throttling.client_address"
AXES_ENABLED = env.bool("LOGIN_THROTTLING_ENABLED", default=True)
# Its admin pages are registered by config.login_throttling.register_admin instead (their date
# drill-down made safe at year 9999, as every other list's).
AXES_ENABLE_ADMIN = False

# Error tracking: sentry-sdk with its Django integration when SENTRY_DSN is set; off (nothing
# initialised, nothing sent) when it is not. What is reported: unhandled exceptions, and every
# record logged at ERROR, such as the API's internal failures with their error id
# (enrollments.graphql.errors). Without personal data: no user, address, cookies, request
# bodies or local variables of stack frames (send_default_pii off, bodies and locals never
# sent), API keys in any of the three header styles scrubbed (Teachify's header added).
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        # Stack frames' local variables hold what requests carried (variables, e-mails, keys).
        include_local_variables=False,
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, "x_teachify_api_key"]),
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# One JSON line per request on stderr (config.request_log), and the X-Request-ID header.
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "config.request_log.JsonFormatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "json": {"class": "logging.StreamHandler", "formatter": "json"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
    "loggers": {
        "course_access.requests": {"handlers": ["json"], "level": "INFO", "propagate": False},
    },
}

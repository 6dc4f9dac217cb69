# Two commands from a fresh clone: `make demo` and `make test`. Both run `make install` first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
# The settings default to production (DEBUG off, SECRET_KEY required); every target here is a
# development one. An explicit DEBUG in the environment still wins.
export DEBUG ?= true
# Python writes its bytecode caches here (__pycache__, ignored by git) even where the
# environment says PYTHONDONTWRITEBYTECODE (this kind of machine sets it): the suite starts about
# a hundred Python processes (pytest-xdist's workers, the docs' examples, servers, job workers),
# and without the caches each one compiled the project again and each worker rewrote the
# assertions of every test module again (collection: 14 s of CPU per worker instead of 5).
unexport PYTHONDONTWRITEBYTECODE

AXE_DIR := tests/browser/axe
AXE_STAMP := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: install browser-deps demo test test-ci-postgres test-fastpaths-off fuzz mutate mutate-results clients lint schema schema-check migrations-check messages messages-check lock bench-install vendor-graphiql clean

install: $(STAMP)

# The development environment: the development lock (runtime + test and tool packages).
# Re-install only when a lock file or the project metadata changes. uv installs the lock, pinned
# here and put into the venv by its own pip: 13 s against pip's 33 s from a fresh clone, bytecode
# compiled (README "Dependencies"). Deployments install the runtime lock with pip
# (docs/deploy.md; CI's production smoke does).
UV_VERSION := 0.13.9
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements-dev.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# axe-core for the accessibility browser tests, from the npm registry, at the version pinned in
# tests/browser/axe/package-lock.json. Without npm the step says so and those tests skip (they
# fail in CI, where PLAYWRIGHT_REQUIRED=1).
browser-deps: $(AXE_STAMP)

$(AXE_STAMP): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(AXE_DIR) --no-audit --no-fund --silent && touch $@; \
	else \
		echo "npm not found: the axe-core accessibility tests will skip"; \
	fi

# A first .env makes every later `.venv/bin/python manage.py ...` of the docs a development run
# too (settings.py reads it); an existing .env is left alone. The Procfile's two processes, for
# development: the job worker (db_worker) in the background, sending the demo's expiry reminders
# that notify_expiring queues (the console e-mail backend prints them here), and runserver in
# the foreground; Ctrl-C, or runserver ending, stops the worker too.
demo: install
	test -f .env || printf 'DEBUG=true\n' > .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py notify_expiring --within 7
	$(BIN)/python manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# Hypothesis draws the same examples on every run (the `ci` profile, tests/fuzzing.py) unless
# HYPOTHESIS_PROFILE says otherwise: a red or green run is red or green again on a fresh clone.
# The suite runs in TEST_WORKERS processes (pytest-xdist; one test database each, which
# pytest-django names test_<name>_gw0, _gw1, ...); `worksteal` hands a long test's neighbours to
# an idle worker. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install browser-deps
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The GraphQL tests again with every fast path off (FASTPATHS_DISABLED=all: graphql-core's own
# execution, Django's loaders; docs/reliability.md "Fast paths"): `make test` runs them on; CI
# runs them off in its PostgreSQL suite (test-ci-postgres, below). The tests that need a fast
# path on or off switch it themselves.
FASTPATHS_OFF_TESTS ?= tests/graphql tests/live tests/hardening/test_graphql_properties.py
test-fastpaths-off: install
	FASTPATHS_DISABLED=all HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest \
		-n $(TEST_WORKERS) --dist worksteal $(FASTPATHS_OFF_TESTS) $(PYTEST_ARGS)

# CI's PostgreSQL suite (.ci/run; DATABASE_URL names the server): what the database can change
# (--database-dependent-only: the browser tests and the tests that reach no database ran in the
# SQLite suite), with every fast path off, so each GraphQL test runs once with them on (`make
# test`) and once off (here) without a third run; the GraphQL tests that reach no database are
# kept for that.
test-ci-postgres: install browser-deps
	FASTPATHS_DISABLED=all $(MAKE) --no-print-directory test PYTEST_ARGS="--database-dependent-only \
		$(addprefix --keep-database-free=,$(FASTPATHS_OFF_TESTS)) $(PYTEST_ARGS)"

# The property tests (files named test_*properties.py) with random seeds and
# HYPOTHESIS_FUZZ_SCALE (default 10) times their examples; not in CI. A failure it finds is
# fixed and pinned as an @example. --hypothesis-show-statistics gives the cases run.
FUZZ_TESTS ?= $(sort $(wildcard tests/test_*properties.py tests/*/test_*properties.py tests/*/*/test_*properties.py))
fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -p no:cacheprovider --hypothesis-show-statistics $(FUZZ_TESTS) $(PYTEST_ARGS)

# Mutation testing (mutmut) of the core modules listed as `only_mutate` in pyproject.toml
# ([tool.mutmut]); not in CI (it runs the suite once per mutant). MUTANTS narrows the run to
# mutant names, e.g. `make mutate MUTANTS='enrollments.operations.pausing*'`. Survivors:
# `make mutate-results`, then `.venv/bin/mutmut show NAME`. docs/reliability.md has the score.
MUTANTS ?=
mutate: install
	HYPOTHESIS_PROFILE=ci $(BIN)/mutmut run $(MUTANTS)
	$(MAKE) --no-print-directory mutate-results

mutate-results: install
	$(BIN)/mutmut results --all true | sed -n 's/^ *//p' | awk '{print $$NF}' | sort | uniq -c
	$(BIN)/mutmut results

# Real GraphQL clients nobody here wrote (Python gql, Apollo Client 4, GraphQL Code Generator,
# graphql-request, graphql-http's GraphQL-over-HTTP audit, Apollo's trusted-documents tooling,
# graphql-request in Chromium on another origin) against gunicorn with DEBUG off on a throwaway
# SQLite database: clients/run.sh, clients/README.md. 1 to 2.5 minutes; needs Node 20+ with
# npm, Redis and Chromium. Not in `make test` nor in CI: run it before resolving API changes.
clients: install
	bash clients/run.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# Translations (docs/admin.md "Languages"). One catalogue for the project:
# locale/<code>/LC_MESSAGES/django.po (LOCALE_PATHS) for each language of settings.LANGUAGES
# besides English. `make messages` collects every string the project's own code and templates
# mark (not the virtualenv, the real clients, the benchmark, node_modules, the tests, mutmut's
# copy or collectstatic's output), keeping the translations already there (a new string comes
# untranslated, a changed one fuzzy), then compiles django.mo beside it. Both files are
# committed: a clean clone serves the translations with no compile step. Needs GNU gettext.
# `make messages-check` (tools/check_messages.py): the catalogue holds exactly the strings the
# code marks, none untranslated or fuzzy, and django.mo is the .po compiled.
MESSAGE_LOCALES ?= de
MESSAGE_IGNORE := --ignore=.venv --ignore=clients --ignore=bench --ignore=node_modules \
	--ignore=tests --ignore=mutants --ignore=staticfiles
messages: install
	$(BIN)/python manage.py makemessages $(addprefix --locale=,$(MESSAGE_LOCALES)) \
		$(MESSAGE_IGNORE) --add-location=file --no-obsolete
	$(BIN)/python manage.py compilemessages $(addprefix --locale=,$(MESSAGE_LOCALES)) \
		$(MESSAGE_IGNORE)

messages-check: install
	$(BIN)/python tools/check_messages.py $(addprefix --locale=,$(MESSAGE_LOCALES)) \
		$(MESSAGE_IGNORE)

# Regenerate the committed GraphQL schemas after changing the API: one file per API version
# (schema.graphql is the contract's 2025-01-01; enrollments/graphql/versions.py).
schema: install
	$(BIN)/python manage.py graphql_schema --schema config.schema.schema --out schema.graphql
	$(BIN)/python manage.py graphql_schema --schema enrollments.graphql.versions.schema_2026_01_01 --out schema-2026-01-01.graphql

schema-check: install
	$(BIN)/python manage.py graphql_schema --schema config.schema.schema --out .schema.generated.graphql
	diff -u schema.graphql .schema.generated.graphql && rm -f .schema.generated.graphql
	$(BIN)/python manage.py graphql_schema --schema enrollments.graphql.versions.schema_2026_01_01 --out .schema-2026-01-01.generated.graphql
	diff -u schema-2026-01-01.graphql .schema-2026-01-01.generated.graphql && rm -f .schema-2026-01-01.generated.graphql

# Two locks from pyproject.toml: requirements.lock, the runtime only (what a production server
# installs), and requirements-dev.lock, runtime + the dev extra, constrained to the same runtime
# versions.
LOCK_FLAGS := --quiet --no-emit-index-url --no-emit-find-links --strip-extras
lock:
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev --constraint requirements.lock -o requirements-dev.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev --extra bench --constraint requirements-dev.lock -o requirements-bench.lock pyproject.toml

# The benchmark's peers (the `bench` extra: strawberry-graphql-django), pinned by their own lock
# on top of the development one; `python -m bench` leaves that peer out without them.
bench-install: install
	$(BIN)/python -m pip install --quiet -r requirements-bench.lock

# GraphiQL's assets from the npm registry, the versions graphene-django pins (tools/).
vendor-graphiql: install
	$(BIN)/python tools/vendor_graphiql.py

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache $(AXE_DIR)/node_modules mutants \
		clients/node_modules clients/codegen/generated clients/codegen/dist

# Two commands from a fresh clone: `make demo` and `make test`. Both run `make install` first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

AXE_DIR := tests/browser/axe
AXE_STAMP := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: install browser-deps demo test test-postgres lint schema schema-check migrations-check clean

install: $(STAMP)

# Re-install only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
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

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

migrations-check: install
	$(BIN)/python manage.py makemigrations --check --dry-run

# Regenerate the committed GraphQL schema after changing the API.
schema: install
	$(BIN)/python manage.py graphql_schema --schema config.schema.schema --out schema.graphql

schema-check: install
	$(BIN)/python manage.py graphql_schema --schema config.schema.schema --out .schema.generated.graphql
	diff -u schema.graphql .schema.generated.graphql && rm -f .schema.generated.graphql

lock:
	$(BIN)/pip-compile --quiet --extra dev --no-emit-index-url --no-emit-find-links --strip-extras -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) db.sqlite3 .pytest_cache $(AXE_DIR)/node_modules

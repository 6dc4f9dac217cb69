# Two commands from a fresh clone: `make demo` and `make test`. Both run `make install` first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install demo test test-postgres lint schema schema-check migrations-check clean

install: $(STAMP)

# Re-install only when the lock file or the project metadata changes.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
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
	rm -rf $(VENV) db.sqlite3 .pytest_cache

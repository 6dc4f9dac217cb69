#!/usr/bin/env bash
# `make clients`: real GraphQL clients nobody here wrote, against a real server of this project.
#
# One command: a throwaway SQLite database (migrate, seed_demo --force, an API key for
# lead@example.com, the demo's staff member who may view, extend, pause and resume), gunicorn
# with two workers and the production settings of .ci/production_smoke (DEBUG off, a random
# SECRET_KEY, ALLOWED_HOSTS=127.0.0.1, Redis as the cache shared by the workers, under a key
# prefix of this run's own, no HTTPS redirect: plain HTTP on 127.0.0.1) on a free port; then
# every check of clients/README.md in turn, each timed; then the server is stopped and
# everything removed (this run's Redis keys too). Prints one PASS/FAIL line per check and exits
# non-zero when any check fails. Nothing is skipped: a check whose server feature is missing
# fails and says what it got.
#
# The server runs this checkout as it is (uncommitted changes included); CLIENTS_AT=<commit>
# (e.g. HEAD) runs it from a fresh clone of that commit instead, to try what is committed; the
# clients are always this checkout's.
#
# Needs: the development venv (.venv, `make install`), Node 20+ with npm (`npm ci` here runs
# when package-lock.json changed), Redis on 127.0.0.1:6379. CLIENTS_ONLY="gql apollo-get" runs
# only the named checks (the server is still built once).
set -uo pipefail
CLIENTS="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$CLIENTS/.." && pwd)"
PY="$REPO/.venv/bin/python"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/clients.XXXXXX")"
RUN_ID="clients-$(date +%s)-$$"
GUNICORN_PID=""

say() { echo "--- $*"; }
die() { echo "make clients: $*" >&2; exit 2; }
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cleanup() {
  if [ -n "$GUNICORN_PID" ]; then kill "$GUNICORN_PID" 2>/dev/null; wait "$GUNICORN_PID" 2>/dev/null; fi
  # This run's cache keys (rate-limit counters, persisted queries...): only its own prefix.
  "$PY" - "$RUN_ID" <<'EOF' 2>/dev/null || true
import sys

import redis

client = redis.Redis.from_url("redis://127.0.0.1:6379/13")
for key in client.scan_iter(match=f"{sys.argv[1]}:*", count=1000):
    client.delete(key)
EOF
  rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$PY" ] || die "no .venv: run make install first"
command -v node >/dev/null || die "node not found (Node 20+ is needed)"

STARTED=$(date +%s.%N)
APP="$REPO"
if [ -n "${CLIENTS_AT:-}" ]; then
  git clone --quiet --no-hardlinks "$REPO" "$WORK/app" || die "git clone failed"
  git -C "$WORK/app" checkout --quiet --detach "$(git -C "$REPO" rev-parse "$CLIENTS_AT")" \
    || die "no commit $CLIENTS_AT"
  APP="$WORK/app"
  # The venv's editable install of this checkout (setuptools' finder) would still serve any
  # module the clone lacks (an uncommitted file) from here: a sitecustomize of this run's own
  # removes that finder, so that the clone's code alone is imported.
  mkdir "$WORK/site"
  cat >"$WORK/site/sitecustomize.py" <<'EOF'
import sys

sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "__editable__" not in getattr(h, "__module__", "")]
sys.path[:] = [p for p in sys.path if "__editable__" not in p]
EOF
  export PYTHONPATH="$WORK/site"
fi
say "server code: $APP at $(git -C "$APP" rev-parse --short HEAD)$([ "$APP" = "$REPO" ] && \
  [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ] && echo ' + uncommitted changes')"
say "npm packages (clients/package-lock.json)"
if [ ! -f "$CLIENTS/node_modules/.package-lock.json" ] \
  || [ "$CLIENTS/package-lock.json" -nt "$CLIENTS/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$CLIENTS" --no-audit --no-fund --loglevel=error 2>&1 \
    | grep -v "EBADENGINE" || true
  [ -d "$CLIENTS/node_modules/@apollo/client" ] || die "npm ci failed"
fi

# The production environment of .ci/production_smoke, with SQLite and this run's own Redis
# key prefix (KEY_PREFIX of the cache URL: every key of the run, removed at the end).
set -a
ENV_FILE=/dev/null
DEBUG=false
SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')"
ALLOWED_HOSTS=127.0.0.1
DATABASE_URL="sqlite:///$WORK/db.sqlite3"
CACHE_URL="redis://127.0.0.1:6379/13?key_prefix=$RUN_ID"
RATE_LIMIT_KEY_PREFIX="$RUN_ID-ratelimit"
SECURE_SSL_REDIRECT=false
# The web app of browser/cors.py: its page is served on CORS_PAGE_PORT; only the localhost
# origin is listed (127.0.0.1 on the same port is the refused one).
CORS_PAGE_PORT="$(free_port)"
CORS_ALLOWED_ORIGINS="http://localhost:${CORS_PAGE_PORT}"
STATIC_ROOT="$WORK/static"
LOG_LEVEL=ERROR
set +a
mkdir -p "$STATIC_ROOT"
MANAGE=("$PY" "$APP/manage.py")

say "throwaway SQLite database: migrate, seed_demo, an API key"
(cd "$APP" && "${MANAGE[@]}" migrate --noinput >"$WORK/migrate.log" 2>&1) \
  || { cat "$WORK/migrate.log"; die "migrate failed"; }
(cd "$APP" && "${MANAGE[@]}" seed_demo --force | grep "Demo data ready") || die "seed_demo failed"
API_KEY="$(cd "$APP" && "${MANAGE[@]}" create_api_key lead@example.com --name "make clients" | tail -n 1)"
[ -n "$API_KEY" ] || die "create_api_key printed no key"

PORT="$(free_port)"
GUNICORN="$REPO/.venv/bin/gunicorn"
export GRAPHQL_BASE="http://127.0.0.1:${PORT}" API_KEY APP PY GUNICORN
say "gunicorn (2 workers, DEBUG off) on $GRAPHQL_BASE"
"$GUNICORN" --chdir "$APP" --bind "127.0.0.1:${PORT}" --workers 2 \
  config.wsgi 2>"$WORK/gunicorn.log" &
GUNICORN_PID=$!
for _ in $(seq 1 120); do
  curl -sf "$GRAPHQL_BASE/healthz" >/dev/null && break
  kill -0 "$GUNICORN_PID" 2>/dev/null || { cat "$WORK/gunicorn.log"; die "gunicorn exited"; }
  sleep 0.25
done
curl -sf "$GRAPHQL_BASE/healthz" >/dev/null || { cat "$WORK/gunicorn.log"; die "no /healthz"; }
READY=$(date +%s.%N)
printf -- '--- server ready in %.1f s\n' "$(echo "$READY - $STARTED" | bc)"

# name | command (run in clients/). Each check that pauses the contract's example membership
# resumes it (they all expect it unpaused, IN_PROGRESS); extensions only move its end further.
CHECKS=(
  "gql|$PY gql_client.py"
  "gql-audit-log|$PY gql_client.py audit-log"
  "apollo-relay-pagination|node apollo/relay_pagination.mjs"
  "apollo-get|node apollo/get.mjs"
  "apollo-apq|node apollo/persisted_queries.mjs"
  "apollo-trusted-documents|bash trusted/run.sh"
  "codegen-2026-01-01|bash codegen/run.sh"
  "graphql-request|node graphql_request.mjs"
  "browser-cors|$PY browser/cors.py"
  "graphql-http-audit|node audit.mjs"
)
declare -a RESULTS=()
FAILED=0
for check in "${CHECKS[@]}"; do
  name="${check%%|*}"
  command="${check#*|}"
  if [ -n "${CLIENTS_ONLY:-}" ] && ! [[ " $CLIENTS_ONLY " == *" $name "* ]]; then continue; fi
  say "$name: $command"
  begin=$(date +%s.%N)
  (cd "$CLIENTS" && eval "$command")
  code=$?
  seconds=$(printf '%.1f' "$(echo "$(date +%s.%N) - $begin" | bc)")
  if [ "$code" = 0 ]; then
    RESULTS+=("PASS  $name  ${seconds}s")
  else
    RESULTS+=("FAIL  $name  ${seconds}s  (exit $code)")
    FAILED=$((FAILED + 1))
  fi
done

[ "${#RESULTS[@]}" -gt 0 ] || die "no check named in CLIENTS_ONLY=${CLIENTS_ONLY:-}"
if [ -s "$WORK/gunicorn.log" ] && grep -q "Traceback" "$WORK/gunicorn.log"; then
  say "the server logged errors:"
  grep -B2 -A20 "Traceback" "$WORK/gunicorn.log" | head -n 60
fi
echo
echo "=== make clients: summary (server: gunicorn, DEBUG off, SQLite)"
printf '%s\n' "${RESULTS[@]}"
printf '=== %d check(s) failed; %.0f s in all\n' "$FAILED" "$(echo "$(date +%s.%N) - $STARTED" | bc)"
[ "$FAILED" = 0 ]

#!/usr/bin/env bash
# `make run`: a local instance with demo data on http://127.0.0.1:8000 (PORT=... for another port).
# Every `alojamientos` command run in this checkout finds its servers through .run/dev/services.env.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin

if [ ! -f .env ]; then
  # Made once per checkout and kept in .env (git-ignored): never committed, never per process.
  secret=$($bin/python -c 'import secrets; print(secrets.token_urlsafe(48))')
  sed -e "s|^ALOJAMIENTOS_ENV=.*|ALOJAMIENTOS_ENV=development|" \
      -e "s|^SECRET_KEY=.*|SECRET_KEY=$secret|" .env.example > .env
  echo "run: wrote .env for local development (edit it to point at real services)"
fi
port=${PORT:-8000}
set -a
# shellcheck disable=SC1091
. ./.env
set +a

if [ -z "${DATABASE_URL:-}" ]; then
  scripts/services.sh start .run/dev
  # shellcheck disable=SC1091
  . .run/dev/services.env
fi

$bin/alojamientos db upgrade
$bin/alojamientos db seed-demo

if [ -z "${DEMO_OPERATOR_PASSWORD:-}" ]; then
  DEMO_OPERATOR_PASSWORD=$($bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  if echo "$DEMO_OPERATOR_PASSWORD" | $bin/alojamientos users create operador@demo.local \
       --name "Operador demo" --password-stdin; then
    echo "DEMO_OPERATOR_PASSWORD=$DEMO_OPERATOR_PASSWORD" >> .env
  fi
fi
echo "run: log in as operador@demo.local with the password in .env (DEMO_OPERATOR_PASSWORD)"
# The worker delivers messages and e-mails, expires holds and syncs calendars; it stops with the server.
$bin/alojamientos worker &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
echo "run: serving on http://127.0.0.1:$port (panel at /admin, API docs at /docs) with a worker; Ctrl-C stops both"
$bin/alojamientos serve --host 127.0.0.1 --port "$port"

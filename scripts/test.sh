#!/usr/bin/env bash
# Runs ruff and the whole suite on SQLite, then again on PostgreSQL when it answers on 127.0.0.1:5432.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
# Two workers (pytest-xdist): each has its own database, so tests never share rows across processes.
WORKERS=(-n "${PYTEST_WORKERS:-2}")
$BIN/ruff check app tests bench
echo "== tests on SQLite"
TEST_DATABASE_URL= $BIN/python -m pytest -p no:cacheprovider "${WORKERS[@]}" "$@"
PG_URL=${TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if $BIN/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
url = sys.argv[1].replace("postgresql+psycopg://", "postgresql://")
psycopg.connect(url, connect_timeout=3).close()
PY
then
  echo "== tests on PostgreSQL"
  TEST_DATABASE_URL="$PG_URL" $BIN/python -m pytest -p no:cacheprovider "${WORKERS[@]}" "$@"
else
  echo "== PostgreSQL not reachable on 127.0.0.1:5432: skipped the PostgreSQL run"
fi

#!/usr/bin/env bash
# Run every benchmark on SQLite and PostgreSQL; print the result lines (progress on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap
py=.venv/bin/python
for db in sqlite postgresql; do
    $py bench/ingest.py --db "$db" --mode single
    $py bench/ingest.py --db "$db" --mode batch
    $py bench/delivery.py --db "$db"
    $py bench/delivery.py --db "$db" --sink raw
    $py bench/latency.py --db "$db"
    $py bench/punctuality.py --db "$db"
done

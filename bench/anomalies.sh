#!/usr/bin/env bash
# Anomaly benchmark: cloudoptima's detector beside STL + Tukey fence (k = 1.5, as FinOps hubs) and a
# 25% day-over-day rule on generated tenants with injected anomalies of known cause. Prints precision,
# recall, days to detect, false anomalies per 100 scopes per 30 days and cause accuracy.
#
#   ./bench/anomalies.sh               # 5 tenants
#   ./bench/anomalies.sh --tenants 20
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh -r tests/requirements.txt -r bench/requirements.txt

cargo build --release --quiet
exec "$venv/bin/python" bench/anomalies.py --binary target/release/cloudoptima \
  --dir "${BENCH_DIR:-target/bench}" "$@"

#!/usr/bin/env bash
# Ingest benchmark: cloudoptima against DuckDB on the same Cost Management FOCUS exports.
#
#   ./bench/ingest.sh                 # 1M and 10M rows
#   ./bench/ingest.sh 200000          # any sizes, in rows
#
# Builds the release binary, generates each export with `cloudoptima demo-export` (uncompressed CSV,
# one run per month, with manifests), then times both tools doing the same job, each in its own
# process: CSV export -> Parquet partitioned by billing month (cloudoptima: the azure_exports source
# and the transform into the Delta `costs` table, rules, forecast and report off; DuckDB: COPY ...
# PARTITION_BY). Prints rows/s, peak RSS and the ratios. Work files go to $BENCH_DIR
# (default target/bench), which needs about 1.5 KB of disk per row.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh -r tests/requirements.txt

cargo build --release --quiet
exec "$venv/bin/python" bench/ingest.py --binary target/release/cloudoptima \
  --dir "${BENCH_DIR:-target/bench}" "${@:-1000000 10000000}"

#!/usr/bin/env bash
# Rules benchmark: every rule over a large lake, cloudoptima against DuckDB on the same files.
#
#   ./bench/rules.sh                                  # 10M cost rows, 10,000 VMs
#   ./bench/rules.sh --cost-rows 1000000 --vms 1000   # smaller
#
# Builds the release binary, seeds a lake with a demo run, replaces its `costs`, `resources` and
# `metrics` tables with generated ones (10,000 VMs with OS disks and spare disks; 62 days of cost
# rows; 30 days of hourly CPU and available memory per VM), then runs every rule (preview ones too)
# with `cloudoptima run` and the same SQL with DuckDB over the same Parquet files. Prints per-rule
# times, totals, peak RSS and the ratios. Work files go to $BENCH_DIR (default target/bench/rules,
# about 1 GB at the default size).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh -r tests/requirements.txt -r bench/requirements.txt

cargo build --release --quiet
exec "$venv/bin/python" bench/rules.py --binary target/release/cloudoptima \
  --dir "${BENCH_DIR:-target/bench}/rules" "$@"

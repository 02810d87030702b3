#!/usr/bin/env bash
# Forecast backtest: cloudoptima's model beside statsforecast (AutoETS, MSTL, seasonal naive) on the
# same generated series, 90 days from three rolling origins. Prints MASE, sMAPE, 80%/95% coverage and
# series per second for each.
#
#   ./bench/forecast.sh            # 40 and 200 series
#   ./bench/forecast.sh 1000       # any number of series
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/venv.sh -r tests/requirements.txt -r bench/requirements.txt

cargo build --release --quiet
exec "$venv/bin/python" bench/forecast.py --binary target/release/cloudoptima \
  --dir "${BENCH_DIR:-target/bench}" "${@:-40 200}"

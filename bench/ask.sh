#!/usr/bin/env bash
# Question-set harness: the demo tenant into a scratch lake, then every question of
# bench/questions.toml (or the file given) asked of the model in your config's [llm], each result
# compared with its expected query's. Prints each outcome and the execution accuracy.
#
#   CLOUDOPTIMA_CONFIG=config/cloudoptima.toml ./bench/ask.sh
#   CLOUDOPTIMA_CONFIG=my.toml ./bench/ask.sh my-questions.toml
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CLOUDOPTIMA_CONFIG:?set CLOUDOPTIMA_CONFIG to a config with an [llm] section}"
questions="$(realpath "${1:-bench/questions.toml}")"
config="$(realpath "$CLOUDOPTIMA_CONFIG")"

cargo build --release --quiet
bin="$PWD/target/release/cloudoptima"
dir="${BENCH_DIR:-target/bench}/ask"
rm -rf "$dir" && mkdir -p "$dir"
cd "$dir"
# The demo run writes its lake here; the config's [llm] is used only by `ask`.
CLOUDOPTIMA_CONFIG= "$bin" run --as-of 2026-06-19 >/dev/null
exec "$bin" --config "$config" --lake lake ask --eval "$questions"

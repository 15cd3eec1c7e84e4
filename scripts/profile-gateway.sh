#!/usr/bin/env bash
# Profiles the bench gateway's measured drain with perf (docs/benchmarks.md, "Profiling the decision path").
# Usage: PDM_PORT_OFFSET=N scripts/profile-gateway.sh [scenario-settings-file] [messages] [warm-up messages]
# The settings file holds the gateway settings one per line, e.g. from
# `dotnet tests/PdM.Benchmarks.Inference/bin/Release/net10.0/PdM.Benchmarks.Inference.dll prepare DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash infra/local/deps.sh env)"
settings=${1:?settings file}; messages=${2:-100000}; warmup=${3:-20000}
bench=tests/PdM.Benchmarks.Ingest/bin/Release/net10.0/PdM.Benchmarks.Ingest.dll
out=${PROFILE_DIR:-/tmp/pdm-profile}; mkdir -p "$out"; rm -f "$out/go"; mkfifo "$out/go"
id=profile-$$
export PDM_BENCH_GATEWAY_ARGS="$(cat "$settings")"
DOTNET_TC_CallCountingDelayMs=0 PDM_BENCH_HARNESS_RUNTIME=DOTNET_TC_CallCountingDelayMs DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 dotnet "$bench" consumer gateway drain "$PDM_MQTT_PORT" "$id" "$messages" "$warmup" <"$out/go" >"$out/child.out" 2>&1 &
child=$!
exec 3>"$out/go"
until grep -q '^ready' "$out/child.out"; do sleep 0.2; done
dotnet "$bench" publish --port "$PDM_MQTT_PORT" --messages "$warmup"
until grep -q '^warm' "$out/child.out"; do sleep 0.2; done
# The rehearsal (as the bench harness does it): a fresh instance drains a warm-up-sized backlog first.
dotnet "$bench" publish --port "$PDM_MQTT_PORT" --messages "$warmup"
echo rehearse >&3
until grep -q '^rehearsed' "$out/child.out"; do sleep 0.2; done
dotnet "$bench" publish --port "$PDM_MQTT_PORT" --messages "$messages"
echo go >&3
perf record -F 999 -g -p "$child" -o "$out/perf.data" 2>/dev/null || true
wait "$child" || true
exec 3>&-
mosquitto_sub -p "$PDM_MQTT_PORT" -i "$id" -t x -W 1 -V mqttv5 -x 0 >/dev/null 2>&1 || true
grep -h '^result\|^note' "$out/child.out"
perf script -i "$out/perf.data" 2>/dev/null | python3 scripts/perf-categories.py

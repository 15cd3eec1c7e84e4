#!/usr/bin/env bash
# make run: the all-in-one platform on embedded defaults. Starts the private PostgreSQL (the only server it needs),
# migrates, and runs PdM.Host with the Demo environment: MQTTnet's in-process broker, MassTransit's in-memory bus,
# the plant simulator and the gateway in-process. Ctrl-C stops the host and the database it started.
set -euo pipefail
cd "$(dirname "$0")/.."

started_postgres=0
if ! bash infra/local/deps.sh status postgres >/dev/null 2>&1; then
  bash infra/local/deps.sh start postgres >&2
  started_postgres=1
fi
ConnectionStrings__Postgres=$(bash infra/local/deps.sh env | sed -nE "s/^export ConnectionStrings__Postgres='(.*)'$/\1/p")
export ConnectionStrings__Postgres

host_pid=""
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then
    kill -INT "$host_pid" 2>/dev/null || true
    wait "$host_pid" 2>/dev/null || true
  fi
  if [ "$started_postgres" = 1 ]; then
    echo "stopping the PostgreSQL that make run started" >&2
    bash infra/local/deps.sh stop postgres >&2 || true
  fi
}
trap cleanup INT TERM EXIT

dotnet build services/PdM.Host -nologo -v quiet
host_dll=services/PdM.Host/bin/Debug/net10.0/PdM.Host.dll
dotnet "$host_dll" migrate
echo "Starting the all-in-one platform (Ctrl-C to stop)…"
dotnet "$host_dll" --environment Demo &
host_pid=$!
wait "$host_pid"

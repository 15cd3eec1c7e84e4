#!/usr/bin/env bash
# make run: the all-in-one platform on embedded defaults. Starts the private PostgreSQL (the only server it needs),
# migrates, and runs the demo (demo/PdM.Demo): PdM.Host's modules plus MQTTnet's in-process broker, MassTransit's
# in-memory bus, the plant simulator and the gateway in-process, the CMMS stubs, and the demo's data scientist and
# approver. Ctrl-C stops the demo and the database it started.
set -euo pipefail
cd "$(dirname "$0")/.."

started_postgres=0
if ! bash infra/local/deps.sh status postgres >/dev/null 2>&1; then
  bash infra/local/deps.sh start postgres >&2
  started_postgres=1
fi
# Every run starts from an empty demo database and journal: the built-in CMMS stub keeps no state between runs, so
# cases remembered from a previous run would point at records it no longer has.
admin=$(bash infra/local/deps.sh env | sed -nE "s/^export PDM_POSTGRES='(.*)'$/\1/p")
pg_host=$(sed -nE 's/.*Host=([^;]*).*/\1/p' <<<"$admin"); pg_port=$(sed -nE 's/.*Port=([^;]*).*/\1/p' <<<"$admin")
PGPASSWORD=pdm psql -q -h "$pg_host" -p "$pg_port" -U pdm -d postgres -c 'DROP DATABASE IF EXISTS pdm_demo WITH (FORCE)' >/dev/null
export ConnectionStrings__Postgres="Host=$pg_host;Port=$pg_port;Username=pdm;Password=pdm;Database=pdm_demo"
export Journal__Path="$PWD/.state/demo/journal.db"
export Inference__ModelStorePath="$PWD/.state/demo/models"
# The registry's artifacts, the demo's signing key (.state/demo/signing) and the development token issuer's key under
# .state/ (not in the build output), so `pdm token` keeps working across runs and `git clean` of bin/ loses nothing.
export PDM_STATE_DIR="${PDM_STATE_DIR:-$PWD/.state}"
rm -rf .state/demo

cleanup() {
  if [ "$started_postgres" = 1 ]; then
    echo "stopping the PostgreSQL that make run started" >&2
    bash infra/local/deps.sh stop postgres >&2 || true
  fi
}
# The host runs in the foreground, so Ctrl-C reaches it directly (bash would start a background job with SIGINT
# ignored). bash runs its INT trap once the host has shut down; the EXIT trap then stops what this script started.
trap cleanup EXIT
trap 'exit 130' INT TERM

dotnet build demo/PdM.Demo -nologo -v quiet
demo_dll=demo/PdM.Demo/bin/Debug/net10.0/PdM.Demo.dll
dotnet "$demo_dll" migrate
echo "Starting the all-in-one platform (Ctrl-C to stop)…"
dotnet "$demo_dll"

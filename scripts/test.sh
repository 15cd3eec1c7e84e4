#!/usr/bin/env bash
# make test: start the real servers, build, run every test project, end with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

# Two lanes of test projects run side by side, each on its own set of servers on loopback (the machine has two cores,
# and most integration tests spend their time waiting: outages, lease expiries, elections, a demo's training).
# Lane 1, the shared servers (deps.sh's at PDM_PORT_OFFSET): every project not in lane 2, one after the other.
# Lane 2, servers of its own at PDM_LANE2_PORT_OFFSET (PDM_PORT_OFFSET + 500 by default) with their own state folder
# and the three-node RabbitMQ cluster: the projects in LANE2, PdM.Resilience.Tests (which kills, stops and alarms its
# servers on purpose and so must not share them with anyone running meanwhile) and two more chosen to even the lanes out.
# Lane 2's servers start once the build is done (during it they slowed it by 45 s) and stop when it ends.
# One lane: 18.5 minutes of testing, 5 of them Resilience's.
LANE2=(PdM.Resilience.Tests PdM.Persistence.Tests PdM.Observability.Tests)
offset=${PDM_PORT_OFFSET:-0}
lane2_offset=${PDM_LANE2_PORT_OFFSET:-$((offset + 500))}
if [ "$lane2_offset" -eq "$offset" ] || [ "$lane2_offset" -ge 900 ]; then
  # 900 is PdM.Infra.Tests' own (its port-conflict tests start private servers there).
  echo "deps: PDM_PORT_OFFSET=$offset leaves no offset for lane 2's servers; set PDM_LANE2_PORT_OFFSET (a multiple of 100 below 900, not $offset)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# deps.sh for each lane's servers: lane 2's at another offset with another state folder.
shared_deps() { bash infra/local/deps.sh "$@"; }
lane2_deps() { PDM_PORT_OFFSET=$lane2_offset PDM_STATE_DIR=$lane2_state bash infra/local/deps.sh "$@"; }
if ! shared_deps start postgres rabbitmq mosquitto >&2; then
  echo "deps: could not start PostgreSQL/RabbitMQ/Mosquitto (see above)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
eval "$(shared_deps env)"
lane2_state="$PDM_STATE_DIR/lane2"
mkdir -p "$lane2_state"

# Every test fixture adds a throw-away vhost, and a broker restart in the fault tests recovers all of them (205 vhosts:
# 61 s, none: 6 s). Those of earlier runs, whose test processes have exited, go first (PdM.Resilience.Tests prunes
# this run's again before its faults). Then, should some still be left, start this run from an empty broker (its
# data is test data only) when SERVICE holds more than LIMIT: past a few hundred the single node's restart gets slow
# enough to time out. The cluster's limit is lower: every node-kill test makes node 1 recover
# every quorum queue of every vhost, a run adds about ten vhosts of them, and with 46 node 1 came back with its
# queues' dead-letter workers crashed (rabbit_fifo_dlx_sup noproc), leaving them without a leader.
reset_past() {  # reset_past DEPS STATE SERVICE NODE-DIR LIMIT
  local deps=$1 state=$2 service=$3 node_dir=$4 limit=$5 vhosts
  vhosts=$(find "$state/$node_dir"/mnesia/*/msg_stores/vhosts -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
  if [ "$vhosts" -gt "$limit" ]; then
    echo "deps: $vhosts leftover test vhosts in $service: resetting it" >&2
    $deps reset "$service" >/dev/null || { echo "deps: $service reset failed" >&2; return 1; }
  fi
}
shared_deps prune-vhosts >&2 && reset_past shared_deps "$PDM_STATE_DIR" rabbitmq rabbitmq 200 \
  || { echo "deps: could not delete the vhosts of finished test runs (see above)"; echo "0 passed, 1 failed"; exit 1; }

# The build and a run write about 2.5 GB here (build outputs 2.0 GB, servers' data, test state). Say so up front: a
# full disk otherwise shows up as MSBuild copy retries and a logger crash halfway through the build.
free_mb() { df -Pm . | awk 'NR == 2 { print $4 }'; }
if [ "$(free_mb)" -lt 3072 ]; then
  echo "warning: $(free_mb) MB free on $(df -P . | awk 'NR == 2 { print $6 }'); a build and test run needs about 2.5 GB" >&2
fi

if ! dotnet build PdM.sln -nologo -v minimal; then
  echo "build failed ($(free_mb) MB free on the repository's disk)"
  echo "0 passed, 1 failed"
  exit 1
fi

results=".state/test-results"
rm -rf "$results" && mkdir -p "$results"
log="$results/dotnet-test.log"
# What the tests write to the temporary folder (gateway journals, model packages, CLI configurations, the folders of
# the servers some tests start themselves) goes to one folder per run, removed when the run passes and kept, and named,
# when it fails. Before, every run left some forty folders in /tmp and its pdm-tests folder grew run after run. The
# folder is open to all like /tmp: the fault tests restart servers that run as their own users through deps.sh.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pdm-test-run.XXXXXX")
chmod 1777 "$run_tmp"
# In each lane one test project at a time: the integration suites each start hosts and servers.
# No build servers: one started here would outlive the run and its temporary folder.
# A test that never ends (a wait with no bound on a server that never answers) once held a CI run until CI's own limit
# killed it, 75 minutes later, without a word about which test it was. vstest's blame collector now kills a project's
# test host when no test has finished for PDM_TEST_HANG_TIMEOUT (the longest test takes about a minute here), names
# the test it was running, and the run goes on with the next project, red.
hang_timeout=${PDM_TEST_HANG_TIMEOUT:-10m}
run_tests() {  # run_tests TARGET TRX-PREFIX: one dotnet test, its output on stdout
  TMPDIR=$run_tmp dotnet test "$1" --no-build --disable-build-servers -nologo -m:1 \
    --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none --logger "trx;LogFilePrefix=$2" \
    --results-directory "$results/blame" 2>&1
}
# A lane is a solution filter (.slnf) over PdM.sln, its projects run one at a time in the solution's build order.
solution_filter() {  # solution_filter FILE PROJECT-PATH...
  local file=$1
  shift
  printf '{"solution":{"path":"%s","projects":[%s]}}\n' "$PWD/PdM.sln" "$(printf '"%s",' "$@" | sed 's/,$//')" > "$file"
}
mapfile -t test_projects < <(dotnet sln PdM.sln list | grep -E '\.Tests\.csproj$' | tr '\\' '/')
lane1_projects=() lane2_projects=()
for name in "${LANE2[@]}"; do
  lane2_projects+=("tests/$name/$name.csproj")
done
for project in "${test_projects[@]}"; do
  [[ " ${LANE2[*]} " == *" $(basename "$project" .csproj) "* ]] || lane1_projects+=("$project")
done
solution_filter "$results/lane1.slnf" "${lane1_projects[@]}"
solution_filter "$results/lane2.slnf" "${lane2_projects[@]}"

# Lane 2 in the background: its servers, then its projects, then its servers stopped; its output in its own log.
lane2_log="$results/lane2.log"
(
  if ! { lane2_deps start postgres rabbitmq mosquitto rabbitmq-cluster \
      && lane2_deps prune-vhosts && lane2_deps prune-vhosts rabbitmq-cluster \
      && reset_past lane2_deps "$lane2_state" rabbitmq rabbitmq 200 \
      && reset_past lane2_deps "$lane2_state" rabbitmq-cluster rabbitmq-cluster/n1 12; } 2>&1; then
    echo "deps: lane 2's servers did not start (see above): ${LANE2[*]} not run"
    echo "Failed!  - Failed:     1, Passed:     0, Skipped:     0, Total:     1, Duration: 0 s - lane 2 (servers did not start)"
    exit 1
  fi
  eval "$(lane2_deps env)"
  run_tests "$results/lane2.slnf" pdm-lane2
  lane2_status=$?
  { lane2_deps stop && lane2_deps stop rabbitmq-cluster; } > /dev/null 2>&1 \
    || echo "deps: could not stop lane 2's servers (PDM_PORT_OFFSET=$lane2_offset PDM_STATE_DIR=$lane2_state)"
  exit "$lane2_status"
) > "$lane2_log" 2>&1 &
lane2_pid=$!

run_tests "$results/lane1.slnf" pdm | tee "$log"
status=${PIPESTATUS[0]}
lane2_status=0
wait "$lane2_pid" || lane2_status=$?
# Lane 2's output after lane 1's (it ran beside it), and into the log the summary below reads.
echo "--- lane 2: ${LANE2[*]} (beside the projects above, on the servers at PDM_PORT_OFFSET=$lane2_offset) ---"
cat "$lane2_log"
cat "$lane2_log" >> "$log"
[ "$status" -eq 0 ] && status=$lane2_status

# A killed test host's own children (a demo or gateway process a test started) outlive it: stop those of this checkout.
aborted=$(grep -c '^Test Run Aborted' "$log" || true)
if [ "$aborted" -gt 0 ]; then
  pkill -f "$PWD/[a-z]+/[^ ]+/bin/Debug/net10.0/" 2>/dev/null || true
fi

# dotnet test prints one line per test assembly: "Passed!  - Failed: 0, Passed: 63, Skipped: 0, Total: 63, ...".
read -r passed failed skipped < <(grep -E '^(Passed|Failed)! +- Failed: +[0-9]+' "$log" \
  | sed -E 's/.*Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+).*/\2 \1 \3/' \
  | awk '{p+=$1; f+=$2; s+=$3} END {printf "%d %d %d\n", p, f, s}')
assemblies=$(grep -cE '^(Passed|Failed)! +- Failed:' "$log" || true)
expected=${#test_projects[@]}
# An aborted project still prints its summary line, counting only the tests that finished before its host was killed.
failed=$((failed + aborted))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # a crashed test host or a build error: never report green
fi
if [ "$assemblies" -lt "$expected" ]; then
  echo "only $assemblies of $expected test projects reported results" >&2
  [ "$failed" -eq 0 ] && failed=1
fi
# Name the failures again at the very end: a CI log is often read from its tail only.
if [ "$failed" -ne 0 ]; then
  echo "failed tests:" >&2
  grep -E '^\s+Failed [A-Za-z_]' "$log" | sed -E 's/^\s+/  /' | sort -u >&2 || true
  grep -E '^Failed! ' "$log" | sed -E 's/^/  /' >&2 || true
  # "The test running when the crash occurred:" is followed by the test's name (a hang is reported as a crash).
  awk -v why="killed after $hang_timeout without finishing, or crashed" '
    /^The tests? running when the crash occurred/ { listing = 1; next }
    listing && /^[A-Za-z_][A-Za-z0-9_.]*\.[A-Za-z0-9_]+/ { print "  " why ": " $1; next }
    { listing = 0 }' "$log" >&2
fi
# The slowest tests, from each project's TRX report (per-test durations): a run drifting past the 20-minute aim, or a
# CI run much slower than here, shows where the time went.
echo "slowest tests (all durations: $results/blame/*.trx):" >&2
grep -ho '<UnitTestResult [^>]*' "$results"/blame/*.trx 2>/dev/null \
  | sed -nE 's/.* testName="([^"(]*)[^"]*".* duration="([0-9]+):([0-9]+):([0-9.]+)".*/\2 \3 \4 \1/p' \
  | awk '{ printf "%7.1f s  %s\n", $1 * 3600 + $2 * 60 + $3, $4 }' | sort -rn | head -8 >&2 || true
green=false
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && green=true
if $green; then
  rm -rf "$run_tmp"
else
  echo "the tests' temporary files are kept in $run_tmp" >&2
fi
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
$green

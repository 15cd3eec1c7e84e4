#!/usr/bin/env bash
# Local dependencies for development, tests and CI (ARCHITECTURE.md, decision D9: no Docker engine on build
# machines). Installs the Debian packages that are missing, then runs PRIVATE instances of PostgreSQL, RabbitMQ
# and Mosquitto on loopback with all their state under <repo>/.state. The system-wide services, their data and
# their configuration are never started, stopped or modified: we use our own ports, users' files and node names.
#
#   deps.sh start [svc...]    install what is missing, start (or verify) the servers, print the env block
#   deps.sh stop [svc...]     stop the servers (fine when already stopped)
#   deps.sh restart svc...    stop then start
#   deps.sh status [svc...]   one line per server; exit 0 iff every requested server is running
#   deps.sh env               `export NAME='value'` lines: eval "$(infra/local/deps.sh env)"
#   deps.sh vhost NAME [rabbitmq-cluster]  create a RabbitMQ vhost (idempotent) and grant user pdm full permissions on it
#   deps.sh prune-vhosts [rabbitmq-cluster]  delete the vhosts of test processes that have exited (names PREFIX_PID_HEX
#                                  whose PID is gone); every other vhost is left alone, a stopped broker too
#   deps.sh ports             print the port bases; fails if two could collide across offsets
#   deps.sh queues VHOST [rabbitmq-cluster]  name, type and arguments of every queue of a vhost (tab-separated; on the
#                                            cluster also each queue's leader node and message count)
#   deps.sh quorum-members suspend|resume VHOST QUEUE   on the cluster, suspend (or resume) the queue's Raft members on
#                                  nodes 2 and 3: with node 1, its leader, killed meanwhile, the queue has no leader
#                                  until they are resumed (fault injection for the node-kill tests)
#   deps.sh memory-alarm raise|clear   on the single node, set the memory high watermark to 1 byte (RabbitMQ raises
#                                  its memory alarm and blocks every publishing connection, as on a full host) or back
#                                  to the default 0.4 of RAM (fault injection for the resource-alarm test)
#   deps.sh reset rabbitmq    stop RabbitMQ, delete its data (every vhost and message), start it empty
#   deps.sh reset rabbitmq-cluster   the same for the three-node cluster (formed again from scratch)
#   deps.sh pid svc           print the server's pid (exit 1 when it is not running); rabbitmq-cluster:N for node N
#   deps.sh env rabbitmq-cluster   the Messaging__RabbitMq__* settings that point a host at the cluster
#   deps.sh mqtt-identity issue device NAME SITE ASSET [GROUP/NODE]   a device's client certificate, password and ACL
#                                  entry on the TLS listener: it may publish pdm/SITE/ASSET/telemetry (and, given a
#                                  Sparkplug GROUP/NODE, that node's and its devices' births/data/deaths), nothing else
#   deps.sh mqtt-identity issue gateway NAME SITE   the same for a gateway: it reads the site's telemetry
#   deps.sh mqtt-identity revoke NAME   deletes the identity's password, ACL entry and certificate files: it can neither publish nor log in
#                                  again. Both print `key=value` lines: cert, key, pfx, password, ca, host, port.
#
# svc is one of: postgres rabbitmq mosquitto (the default: these three) and rabbitmq-cluster (only when named):
# three RabbitMQ nodes clustered with each other (independent of the single node `rabbitmq`), for the scale-out
# tests and benchmarks; a node killed with -9 is started again (and rejoins) by the next `start rabbitmq-cluster`.
# prometheus (only when named): a Prometheus server that scrapes `make run` (PDM_PROMETHEUS_TARGETS, default
# 127.0.0.1:5080), RabbitMQ's own Prometheus plugin (always on for the single node) and Debian's PostgreSQL exporter
# (started beside it against the local PostgreSQL), with the shipped alert rules (infra/prometheus/alerts.yml) loaded.
# Its packages are always installed:
# tests/PdM.Observability.Tests start their own Prometheus from it against the host they run.
# Progress goes to stderr, results to stdout.
# PDM_PORT_OFFSET (default 0) shifts every port, so several checkouts (each with its own PDM_STATE_DIR) can run
# their own servers side by side on one machine. Offsets in use are multiples of 100 up to 900; every port below
# is BASE + offset, and no two bases differ by a multiple of 100 (checked by `deps.sh ports`), so the servers of two
# offsets never share a port. Every BASE + offset also stays below the kernel's ephemeral range (ip_local_port_range,
# 32768-60999 on Linux; also checked by `deps.sh ports`): a port inside it is handed out as the source port of any
# outgoing connection, and a server whose port a client holds that way cannot start ("address already in use"). The
# ports were 35000 higher until that happened here. A start that finds a server's port taken names the holder. Ports:
#   postgres 20432 (plain and TLS) | rabbitmq amqp 20672, amqps 20671, dist 20673, epmd 19369, metrics 20669
#   prometheus 24090 | postgres exporter 24187 (started with prometheus)
#   mosquitto 16883 (plain, anonymous, loopback) and 23883 (TLS, client certificate + password + ACL)
# TLS: a local CA and a server certificate for localhost/127.0.0.1 are generated once under <state>/pki (openssl);
# PostgreSQL, RabbitMQ (amqps) and Mosquitto's TLS listener present that certificate; PDM_TLS_CA names the CA file.
#   rabbitmq-cluster node N (1..3): amqp 20672+10N (20682 20692 20702), dist 20673+10N (20683 20693 20703),
#                                   one epmd for the three at 19369+30 (19399)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
# The servers run as their own system users (postgres, rabbitmq, mosquitto), which must be able to reach their
# folders. A checkout under a private home (/root) is not reachable: state then goes to /var/tmp instead.
default_state_dir() {
    if [[ $EUID -eq 0 ]] && ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$REPO_ROOT" 2>/dev/null; then
        echo "/var/tmp/pdm-state-$(printf '%s' "$REPO_ROOT" | cksum | cut -d ' ' -f 1)"
    else
        echo "$REPO_ROOT/.state"
    fi
}
STATE_DIR=${PDM_STATE_DIR:-$(default_state_dir)}
ALL_SERVICES=(postgres rabbitmq mosquitto)

PORT_OFFSET=${PDM_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]{1,4}$ ]] || { echo "deps: PDM_PORT_OFFSET must be a number from 0 to 9999" >&2; exit 2; }
PG_PORT=$((20432 + PORT_OFFSET))
AMQP_PORT=$((20672 + PORT_OFFSET))
RMQ_DIST_PORT=$((20673 + PORT_OFFSET))
RMQ_EPMD_PORT=$((19369 + PORT_OFFSET))
# The node name must differ too: two nodes with one name cannot share a host, whatever their ports.
if ((PORT_OFFSET == 0)); then RMQ_NODE=pdm@localhost; else RMQ_NODE=pdm$PORT_OFFSET@localhost; fi
MQTT_PORT=$((16883 + PORT_OFFSET))
MQTT_TLS_PORT=$((23883 + PORT_OFFSET))
AMQPS_PORT=$((20671 + PORT_OFFSET))
# The cluster: node N listens on AMQP 20672+10N and distribution 20673+10N, all three register with their own epmd.
CLUSTER_SIZE=3
RMQC_EPMD_PORT=$((19369 + 30 + PORT_OFFSET))
rmqc_amqp_port() { echo $((20672 + 10 * $1 + PORT_OFFSET)); }
rmqc_dist_port() { echo $((20673 + 10 * $1 + PORT_OFFSET)); }
if ((PORT_OFFSET == 0)); then RMQC_PREFIX=pdm-c; else RMQC_PREFIX=pdm$PORT_OFFSET-c; fi
rmqc_node() { echo "$RMQC_PREFIX$1@localhost"; }
PROM_PORT=$((24090 + PORT_OFFSET))
# RabbitMQ's Prometheus plugin on the single node, and the PostgreSQL exporter that runs beside Prometheus.
RMQ_PROM_PORT=$((20669 + PORT_OFFSET))
PGEXP_PORT=$((24187 + PORT_OFFSET))
# Every port base above, for `deps.sh ports` (the no-collision check across offsets).
# The kernel's ephemeral range (see the header), read once: `ports` and `start` check the ports against it.
read -r EPHEMERAL_LOW EPHEMERAL_HIGH </proc/sys/net/ipv4/ip_local_port_range
in_ephemeral_range() { (($1 >= EPHEMERAL_LOW && $1 <= EPHEMERAL_HIGH)); }
PORT_BASES=(20432 20672 20673 19369 16883 20682 20683 20692 20693 20702 20703 19399 23883 20671 24090 20669 24187)

PG_DIR=$STATE_DIR/postgres
PG_DATA=$PG_DIR/data
PG_RUN=$PG_DIR/run
PG_LOG=$PG_DIR/postgres.log
RMQ_DIR=$STATE_DIR/rabbitmq
RMQ_PID_FILE=$RMQ_DIR/node.pid
EPMD_PID_FILE=$RMQ_DIR/epmd.pid
RMQC_DIR=$STATE_DIR/rabbitmq-cluster
RMQC_EPMD_PID_FILE=$RMQC_DIR/epmd.pid
MQTT_DIR=$STATE_DIR/mosquitto
MQTT_PID_FILE=$MQTT_DIR/mosquitto.pid
MQTT_TEMPLATE=$REPO_ROOT/infra/mosquitto/mosquitto.local.conf
MQTT_IDENTITIES=$MQTT_DIR/identities
PKI_DIR=$STATE_DIR/pki
RMQ_LIB=/usr/lib/rabbitmq/bin
PROM_DIR=$STATE_DIR/prometheus
PROM_PID_FILE=$PROM_DIR/prometheus.pid
PGEXP_PID_FILE=$PROM_DIR/postgres-exporter.pid
PROM_RULES=$REPO_ROOT/infra/prometheus/alerts.yml

log() { printf 'deps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------- packages

is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# The server binaries of the newest installed PostgreSQL. pg_config may come from libpq-dev without a server,
# so the answer is only trusted when initdb is really there.
pg_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n $dir && -x $dir/initdb ]]; then echo "$dir"; return 0; fi
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x $dir/initdb ]]; then echo "$dir"; return 0; fi
    done
    return 0
}

ensure_packages() {
    local missing=() pkg
    # chromium renders the registry's HTML model card headless in tests/PdM.Cli.Tests (ModelCardTests).
    # iproute2 gives `ss`, with which a start names whoever holds a server's port.
    for pkg in rabbitmq-server mosquitto mosquitto-clients openssl python3-onnx docker-compose prometheus \
        prometheus-postgres-exporter chromium iproute2; do
        is_installed "$pkg" || missing+=("$pkg")
    done
    [[ -n $(pg_bindir) ]] || missing+=(postgresql)
    # kubectl renders infra/k8s offline for tests/PdM.Infra.Tests (KubernetesManifestTests): any kubectl will do, so
    # one already on the PATH (e.g. a cloud SDK's) is kept; otherwise Debian's kubernetes-client provides it.
    command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
    ((${#missing[@]} == 0)) && return 0
    [[ $EUID -eq 0 ]] || die "missing packages (${missing[*]}); run as root to install them"
    log "installing ${missing[*]}"
    # An install may start the system-wide services (system epmd on 4369, rabbit on 5672, mosquitto on 1883,
    # postgres on 5432). They are left alone: nothing here uses those ports, users or data folders.
    # --no-install-recommends keeps docker-compose from pulling in a Docker engine.
    # Without the lock's descriptor (fd 9): a system-wide server a package's install starts without systemd (a
    # container's init script) would inherit it and hold the lock for as long as it runs.
    apt-get update >&2 9>&-
    # Debian's prometheus packages would start system-wide servers on :9090 and :9187 (the PostgreSQL exporter): a
    # policy-rc.d that refuses them keeps the install from starting them; one already there (containers have one) is kept.
    local policy=/usr/sbin/policy-rc.d own_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\n# Written by infra/local/deps.sh for the length of one apt-get install.\ncase "$1" in prometheus*) exit 101 ;; esac\nexit 0\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 9>&-; then
        ((own_policy == 0)) || rm -f "$policy"
        die "apt-get install ${missing[*]} failed"
    fi
    ((own_policy == 0)) || rm -f "$policy"
    # A systemd machine whose own policy allowed the start: stop that server and keep it off.
    local unit
    for unit in prometheus prometheus-postgres-exporter; do
        if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$unit" 2>/dev/null; then
            log "stopping the system-wide $unit service the package started"
            systemctl disable --now "$unit" >&2 9>&- || true
        fi
    done
    return 0
}

# ---------------------------------------------------------------------------------------------- helpers

# Runs a command as a system user without an intermediate process (setpriv execs).
as_user() {
    local user=$1
    shift
    setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
}

pid_alive() { [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null; }

# The pid recorded in a file, if that process is alive and is the expected program (a stale file after kill -9
# may name a pid that the kernel has since given to something else).
live_pid_from() {
    local file=$1 comm=$2 pid
    [[ -s $file ]] || return 1
    pid=$(head -n 1 "$file" | tr -dc '0-9')
    pid_alive "$pid" || return 1
    grep -q -- "$comm" "/proc/$pid/comm" 2>/dev/null || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# After a server failed to start: every socket on its ports and its process. A connection of any program that has
# one of them as its source port stops a listener from binding it unless both set SO_REUSEADDR (clients seldom do),
# and keeps doing so for a minute after it closed (TIME-WAIT); the server's own log says only "address in use".
explain_ports() {
    local port holders
    for port in "$@"; do
        holders=$(ss -Htanp "( sport = :$port )" 2>/dev/null || true)
        [[ -z $holders ]] && continue
        log "port $port is held by (a TIME-WAIT connection lets go within a minute):"
        sed 's/^/    /' <<<"$holders" >&2
    done
}

# Before a server is started on a port: another server listening on it is named at once (its pid), instead of a
# server that fails with "address in use" in its log or, worse, a client that then talks to the wrong server.
ensure_port_free() {
    local port=$1 server=$2 holders
    holders=$(ss -Htlnp "( sport = :$port )" 2>/dev/null || true)
    [[ -z $holders ]] && return 0
    log "$server: port $port is held by another server:"
    sed 's/^/    /' <<<"$holders" >&2
    die "$server: cannot listen on 127.0.0.1:$port; stop that process, or move every port of this checkout with PDM_PORT_OFFSET (a multiple of 100, e.g. PDM_PORT_OFFSET=100)"
}

# Sends TERM, waits up to $2 seconds, then KILL.
terminate() {
    local pid=$1 grace=${2:-30} i
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    log "pid $pid ignored TERM for ${grace}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------- local CA

# A CA of this state folder and a server certificate for localhost/127.0.0.1 that it signed, made once. DEV/TEST ONLY:
# the CA key sits next to it unprotected; a plant uses its own PKI.
pki_ensure() {
    [[ -s $PKI_DIR/ca.crt && -s $PKI_DIR/server.crt && -s $PKI_DIR/server.key ]] && return 0
    command -v openssl >/dev/null || die "openssl is required for the local CA"
    mkdir -p "$PKI_DIR"
    chmod 755 "$PKI_DIR"
    log "pki: generating the local CA and server certificate in $PKI_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=PdM local test CA $(printf %s "$STATE_DIR" | cksum | cut -d " " -f 1)" \
        -keyout "$PKI_DIR/ca.key" -out "$PKI_DIR/ca.crt" 2>/dev/null || die "pki: could not create the CA"
    pki_sign server localhost 'subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth'
    chmod 600 "$PKI_DIR/ca.key"
}

# pki_sign NAME CN EXTENSIONS: NAME.key and NAME.crt in $PKI_DIR (or in $4), signed by the local CA.
pki_sign() {
    local name=$1 cn=$2 ext=$3 dir=${4:-$PKI_DIR}
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null ||
        die "pki: could not create a key for $cn"
    printf '%s\n' "$ext" >"$dir/$name.ext"
    openssl x509 -req -in "$dir/$name.csr" -CA "$PKI_DIR/ca.crt" -CAkey "$PKI_DIR/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
        -days 825 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null || die "pki: could not sign $cn"
    rm -f "$dir/$name.csr" "$dir/$name.ext"
}

# Copies the CA and the server certificate into a server's folder, owned by its user (PostgreSQL refuses a key that
# others can read; each server reads them as its own user).
pki_install() {
    local dir=$1 owner=$2
    mkdir -p "$dir"
    cp "$PKI_DIR/ca.crt" "$PKI_DIR/server.crt" "$PKI_DIR/server.key" "$dir/"
    chown -R "$owner:$owner" "$dir"
    chmod 700 "$dir"
    chmod 600 "$dir/server.key"
}

# ---------------------------------------------------------------------------------------------- PostgreSQL

pg() { "$(pg_bindir)/$1" "${@:2}"; }
pg_as_postgres() { as_user postgres env HOME="$PG_DIR" "$(pg_bindir)/$1" "${@:2}"; }
pg_ready() { [[ -n $(pg_bindir) ]] && pg pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }
pg_pid() {
    local pid
    pid=$(live_pid_from "$PG_DATA/postmaster.pid" postgres) || return 1
    echo "$pid"
}
psql_admin() { pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -U postgres -d postgres "$@"; }

pg_write_config() {
    cat >"$PG_DATA/pdm.conf" <<EOF
# Written by infra/local/deps.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
# Every test class opens its own pools against its own database; the default 100 runs out.
max_connections = 300
# TLS on the same port (the client asks for it): the local CA's server certificate. Plain connections stay allowed.
ssl = on
ssl_cert_file = '$PG_DIR/tls/server.crt'
ssl_key_file = '$PG_DIR/tls/server.key'
ssl_ca_file = '$PG_DIR/tls/ca.crt'
EOF
    # DEV/TEST ONLY: trust authentication on loopback and the private socket. This cluster listens on 127.0.0.1
    # only and holds throw-away data; production PostgreSQL uses scram-sha-256 (or a managed service).
    cat >"$PG_DATA/pg_hba.conf" <<EOF
# Written by infra/local/deps.sh. DEV/TEST ONLY: trust on loopback, never use this in production.
local   all          all                 trust
host    all          all  127.0.0.1/32   trust
local   replication  all                 trust
host    replication  all  127.0.0.1/32   trust
EOF
    chown postgres:postgres "$PG_DATA/pdm.conf" "$PG_DATA/pg_hba.conf"
}

pg_start() {
    local attempt
    mkdir -p "$PG_DIR" "$PG_RUN"
    chown postgres:postgres "$PG_DIR" "$PG_RUN"
    chmod 700 "$PG_DIR"
    if ! pg_ready; then
        if [[ ! -f $PG_DIR/initialized ]]; then
            # A cluster without the marker is the leftover of an interrupted initdb: start over.
            rm -rf "$PG_DATA"
            log "postgres: initdb $PG_DATA"
            pg_as_postgres initdb -D "$PG_DATA" -U postgres -E UTF8 --locale=C --auth=trust >"$PG_DIR/initdb.log" 2>&1 ||
                { cat "$PG_DIR/initdb.log" >&2; die "postgres: initdb failed"; }
            echo "include_if_exists = 'pdm.conf'" >>"$PG_DATA/postgresql.conf"
            touch "$PG_DIR/initialized"
        fi
        pki_install "$PG_DIR/tls" postgres
        pg_write_config
        pg_pid >/dev/null || ensure_port_free "$PG_PORT" postgres
        # After kill -9 the dead postmaster's backends may still hold shared memory for a moment; pg_ctl itself
        # ignores the stale postmaster.pid, so a short retry is all a restart needs.
        for attempt in 1 2 3 4 5; do
            log "postgres: starting on 127.0.0.1:$PG_PORT"
            if pg_as_postgres pg_ctl -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start >&2 9>&-; then break; fi
            ((attempt < 5)) || { tail -n 20 "$PG_LOG" >&2; explain_ports "$PG_PORT"; die "postgres: failed to start"; }
            sleep 1
        done
    fi
    for attempt in $(seq 1 60); do
        pg_ready && break
        ((attempt < 60)) || die "postgres: pg_isready never succeeded"
        sleep 0.5
    done
    if [[ $(psql_admin -tA -c 'SHOW ssl') != on ]]; then
        # A cluster started before its configuration had TLS: ssl is reloadable, no restart needed.
        pki_install "$PG_DIR/tls" postgres
        pg_write_config
        psql_admin -tA -c 'SELECT pg_reload_conf()' >/dev/null
    fi
    psql_admin <<'SQL'
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pdm') THEN
        CREATE ROLE pdm LOGIN SUPERUSER PASSWORD 'pdm';
    END IF;
END
$$;
SQL
    if [[ $(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = 'pdm'") != 1 ]]; then
        psql_admin -c 'CREATE DATABASE pdm OWNER pdm'
    fi
    log "postgres: running (pid $(pg_pid || echo '?'))"
}

pg_stop() {
    local pid
    if pid=$(pg_pid); then
        log "postgres: stopping pid $pid"
        pg_as_postgres pg_ctl -D "$PG_DATA" -m fast -w -t 60 stop >&2 || terminate "$pid" 30
    fi
}

# ---------------------------------------------------------------------------------------------- RabbitMQ

# Everything the node and the CLI tools need to find each other without touching the system node: own node
# name, ports, epmd, config, and an Erlang cookie kept in a private HOME instead of /var/lib/rabbitmq.
rmq_env() {
    local dist_loopback='-kernel inet_dist_use_interface {127,0,0,1}'
    printf '%s\n' \
        "HOME=$RMQ_DIR/home" \
        "RABBITMQ_NODENAME=$RMQ_NODE" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$AMQP_PORT" \
        "RABBITMQ_DIST_PORT=$RMQ_DIST_PORT" \
        "ERL_EPMD_PORT=$RMQ_EPMD_PORT" \
        "ERL_EPMD_ADDRESS=127.0.0.1" \
        "RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia" \
        "RABBITMQ_LOG_BASE=$RMQ_DIR/log" \
        "RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq.conf" \
        "RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_DIR/advanced.config" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins" \
        "RABBITMQ_PID_FILE=$RMQ_PID_FILE" \
        "RABBITMQ_CONF_ENV_FILE=$RMQ_DIR/rabbitmq-env.conf" \
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-start_epmd false $dist_loopback" \
        "RABBITMQ_CTL_ERL_ARGS=-start_epmd false $dist_loopback"
}

# Runs a RabbitMQ script as the rabbitmq user (the node's files belong to it) with the private environment.
rmq_run() {
    local tool=$1 vars
    shift
    mapfile -t vars < <(rmq_env)
    # A CLI call against a wedged node would otherwise hang the caller (tests wait on this script).
    (cd "$RMQ_DIR" && timeout "${RMQ_CLI_TIMEOUT:-150}" setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        env "${vars[@]}" "$RMQ_LIB/$tool" "$@")
}
rmqctl() { rmq_run rabbitmqctl -n "$RMQ_NODE" "$@"; }

rmq_pid() {
    local pid
    pid=$(live_pid_from "$RMQ_PID_FILE" beam) || return 1
    echo "$pid"
}
epmd_pid() {
    local pid
    pid=$(live_pid_from "$EPMD_PID_FILE" epmd) || return 1
    echo "$pid"
}
epmd_knows_node() { epmd -port "$RMQ_EPMD_PORT" -names 2>/dev/null | grep -q "^name ${RMQ_NODE%@*} at port"; }

rmq_write_config() {
    mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
    cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# Written by infra/local/deps.sh on every start (local dev/test node; production hints: infra/rabbitmq).
loopback_users.guest = true
log.console = false
log.file.level = info
# A busy dev machine's disk is often nearly full; the default 50MB alarm stays, so publishers block visibly.
disk_free_limit.absolute = 50MB
# RabbitMQ's own Prometheus endpoint (the Platform dashboard's queue panels): /metrics aggregated, /metrics/detailed
# per queue. Loopback only.
prometheus.tcp.ip = 127.0.0.1
prometheus.tcp.port = $RMQ_PROM_PORT
# AMQP over TLS beside the plain port, with the local CA's server certificate (clients are not asked for one).
listeners.ssl.default = 127.0.0.1:$AMQPS_PORT
ssl_options.cacertfile = $RMQ_DIR/tls/ca.crt
ssl_options.certfile = $RMQ_DIR/tls/server.crt
ssl_options.keyfile = $RMQ_DIR/tls/server.key
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
EOF
    # One plugin only, its metrics endpoint: the node still starts in seconds (no management UI).
    echo '[rabbitmq_prometheus].' >"$RMQ_DIR/enabled_plugins"
    echo '[].' >"$RMQ_DIR/advanced.config"
    : >"$RMQ_DIR/rabbitmq-env.conf"
    # Debian's wrapper runs the broker as user rabbitmq: it must own its state, or it dies with
    # failed_to_create_feature_flags_file_directory (FIELD-NOTES.md).
    pki_install "$RMQ_DIR/tls" rabbitmq
    chown -R rabbitmq:rabbitmq "$RMQ_DIR"
    chmod 700 "$RMQ_DIR/home"
}

epmd_start() {
    local pid i
    if pid=$(epmd_pid); then return 0; fi
    if port_open "$RMQ_EPMD_PORT"; then
        log "rabbitmq: an epmd not started by this script holds port $RMQ_EPMD_PORT; using it"
        return 0
    fi
    ensure_port_free "$RMQ_EPMD_PORT" "rabbitmq (epmd)"
    # Our own epmd on a private port, so the system one on 4369 (if any) is never touched.
    setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        epmd -port "$RMQ_EPMD_PORT" -address 127.0.0.1 </dev/null >>"$RMQ_DIR/log/epmd.log" 2>&1 9>&- &
    echo $! >"$EPMD_PID_FILE"
    for ((i = 0; i < 100; i++)); do
        epmd -port "$RMQ_EPMD_PORT" -names >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "rabbitmq: epmd did not start on port $RMQ_EPMD_PORT"
}

rmq_ensure_user() {
    # authenticate_user is one CLI round trip: enough on a warm start, where the user already exists.
    if rmqctl -q authenticate_user pdm pdm >/dev/null 2>&1; then return 0; fi
    rmqctl -q add_user pdm pdm >/dev/null 2>&1 || rmqctl -q change_password pdm pdm >&2
    rmqctl -q set_user_tags pdm administrator >&2
    rmqctl -q set_permissions -p / pdm '.*' '.*' '.*' >&2
}

rmq_start() {
    local pid vars i launcher port
    rmq_write_config
    epmd_start
    if pid=$(rmq_pid) && ! epmd_knows_node; then
        # epmd died and was restarted: the running node is unreachable for every CLI tool until it restarts.
        log "rabbitmq: node pid $pid is not registered with epmd; restarting it"
        terminate "$pid" 30
    fi
    if pid=$(rmq_pid) && ! port_open "$AMQPS_PORT"; then
        # A node started before its configuration had the TLS listener: it reads rabbitmq.conf only at start.
        log "rabbitmq: node pid $pid has no TLS listener on $AMQPS_PORT; restarting it"
        RMQ_CLI_TIMEOUT=60 rmqctl -q stop "$RMQ_PID_FILE" >&2 || true
        terminate "$pid" 30
    fi
    if ! pid=$(rmq_pid); then
        rm -f "$RMQ_PID_FILE"
        for port in "$AMQP_PORT" "$AMQPS_PORT" "$RMQ_DIST_PORT" "$RMQ_PROM_PORT"; do ensure_port_free "$port" rabbitmq; done
        log "rabbitmq: starting node $RMQ_NODE on 127.0.0.1:$AMQP_PORT"
        mapfile -t vars < <(rmq_env)
        (cd "$RMQ_DIR" && exec setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
            env "${vars[@]}" "$RMQ_LIB/rabbitmq-server") </dev/null >>"$RMQ_DIR/log/console.log" 2>&1 9>&- &
        launcher=$!
        # await_startup needs a reachable node: first wait until the node registers with our epmd.
        for ((i = 0; i < 1200; i++)); do
            epmd_knows_node && break
            if ! pid_alive "$launcher"; then
                tail -n 30 "$RMQ_DIR/log/console.log" >&2
                explain_ports "$AMQP_PORT" "$AMQPS_PORT" "$RMQ_DIST_PORT" "$RMQ_PROM_PORT"
                die "rabbitmq: the node exited during start-up (logs in $RMQ_DIR/log)"
            fi
            sleep 0.1
        done
        epmd_knows_node || die "rabbitmq: node never registered with epmd (logs in $RMQ_DIR/log)"
    fi
    rmqctl -q await_startup --timeout 120 >&2 || die "rabbitmq: await_startup failed (logs in $RMQ_DIR/log)"
    for ((i = 0; i < 100; i++)); do
        port_open "$AMQP_PORT" && break
        sleep 0.1
    done
    rmq_ensure_user
    log "rabbitmq: running (pid $(rmq_pid || echo '?'))"
}

rmq_stop() {
    local pid epid
    if pid=$(rmq_pid); then
        log "rabbitmq: stopping pid $pid"
        # `stop PID_FILE` returns once the node's process has exited; a node that does not answer is killed.
        RMQ_CLI_TIMEOUT=60 rmqctl -q stop "$RMQ_PID_FILE" >&2 || true
        terminate "$pid" 30
    fi
    rm -f "$RMQ_PID_FILE"
    # epmd stays up after the node stops (FIELD-NOTES.md): stop the one this script started, by its pid.
    if epid=$(epmd_pid); then
        terminate "$epid" 5
    fi
    rm -f "$EPMD_PID_FILE"
}

rmq_vhost() {
    local name=$1
    [[ $name =~ ^[A-Za-z0-9_.-]{1,200}$ ]] || die "vhost name must match [A-Za-z0-9_.-]+: '$name'"
    rmq_pid >/dev/null || die "rabbitmq is not running: run infra/local/deps.sh start rabbitmq"
    # add_vhost is idempotent on this RabbitMQ; a parallel caller creating the same name is tolerated too.
    if ! rmqctl -q add_vhost "$name" >&2; then
        rmqctl -q list_vhosts name | grep -qx -- "$name" || die "rabbitmq: could not create vhost $name"
    fi
    rmqctl -q set_permissions -p "$name" pdm '.*' '.*' '.*' >&2
    log "rabbitmq: vhost $name ready for user pdm"
}

# ---------------------------------------------------------------------------------------------- RabbitMQ cluster

# Three nodes on one host, each with its own name, ports and data (under .state/rabbitmq-cluster/nN), sharing one
# Erlang cookie (a private HOME) and one private epmd. Nothing is shared with the single node `rabbitmq`.
rmqc_env() {
    local n=$1 dir=$RMQC_DIR/n$1 dist_loopback='-kernel inet_dist_use_interface {127,0,0,1}'
    printf '%s\n' \
        "HOME=$RMQC_DIR/home" \
        "RABBITMQ_NODENAME=$(rmqc_node "$n")" \
        "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1" \
        "RABBITMQ_NODE_PORT=$(rmqc_amqp_port "$n")" \
        "RABBITMQ_DIST_PORT=$(rmqc_dist_port "$n")" \
        "ERL_EPMD_PORT=$RMQC_EPMD_PORT" \
        "ERL_EPMD_ADDRESS=127.0.0.1" \
        "RABBITMQ_MNESIA_BASE=$dir/mnesia" \
        "RABBITMQ_LOG_BASE=$dir/log" \
        "RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf" \
        "RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config" \
        "RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins" \
        "RABBITMQ_PID_FILE=$dir/node.pid" \
        "RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf" \
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-start_epmd false $dist_loopback" \
        "RABBITMQ_CTL_ERL_ARGS=-start_epmd false $dist_loopback"
}

rmqc_run() {
    local n=$1 tool=$2 vars
    shift 2
    mapfile -t vars < <(rmqc_env "$n")
    (cd "$RMQC_DIR/n$n" && timeout "${RMQ_CLI_TIMEOUT:-150}" setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        env "${vars[@]}" "$RMQ_LIB/$tool" "$@")
}
rmqcctl() { local n=$1; shift; rmqc_run "$n" rabbitmqctl -n "$(rmqc_node "$n")" "$@"; }

rmqc_pid() {
    local pid
    pid=$(live_pid_from "$RMQC_DIR/n$1/node.pid" beam) || return 1
    echo "$pid"
}
rmqc_epmd_pid() {
    local pid
    pid=$(live_pid_from "$RMQC_EPMD_PID_FILE" epmd) || return 1
    echo "$pid"
}
rmqc_registered() { epmd -port "$RMQC_EPMD_PORT" -names 2>/dev/null | grep -q "^name $RMQC_PREFIX$1 at port"; }

rmqc_write_config() {
    local n dir peers=''
    mkdir -p "$RMQC_DIR/home"
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        peers+="cluster_formation.classic_config.nodes.$n = $(rmqc_node "$n")"$'\n'
    done
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        dir=$RMQC_DIR/n$n
        mkdir -p "$dir/mnesia" "$dir/log"
        cat >"$dir/rabbitmq.conf" <<CONF
# Written by infra/local/deps.sh on every start: node $n of the local test cluster (production hints: infra/rabbitmq).
loopback_users.guest = true
log.console = false
log.file.level = info
disk_free_limit.absolute = 50MB
# A fresh node joins the first reachable peer of this list; node 1 starts first, so 2 and 3 find it.
cluster_formation.peer_discovery_backend = classic_config
${peers}# Quorum queues stay available while a majority (2 of 3) is up: the minority side pauses instead of diverging.
cluster_partition_handling = pause_minority
CONF
        echo '[].' >"$dir/enabled_plugins"
        echo '[].' >"$dir/advanced.config"
        : >"$dir/rabbitmq-env.conf"
    done
    chown -R rabbitmq:rabbitmq "$RMQC_DIR"
    chmod 700 "$RMQC_DIR/home"
}

rmqc_epmd_start() {
    local i
    if rmqc_epmd_pid >/dev/null; then return 0; fi
    port_open "$RMQC_EPMD_PORT" && die "rabbitmq-cluster: port $RMQC_EPMD_PORT is held by an epmd this script did not start"
    ensure_port_free "$RMQC_EPMD_PORT" "rabbitmq-cluster (epmd)"
    setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        epmd -port "$RMQC_EPMD_PORT" -address 127.0.0.1 </dev/null >>"$RMQC_DIR/epmd.log" 2>&1 9>&- &
    echo $! >"$RMQC_EPMD_PID_FILE"
    for ((i = 0; i < 100; i++)); do
        epmd -port "$RMQC_EPMD_PORT" -names >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    die "rabbitmq-cluster: epmd did not start on port $RMQC_EPMD_PORT"
}

# Launches node N (if not running) and returns once it is registered with epmd; await_startup comes later, so that
# nodes 2 and 3 boot in parallel.
rmqc_launch() {
    local n=$1 vars launcher i
    if rmqc_pid "$n" >/dev/null && rmqc_registered "$n"; then return 0; fi
    if rmqc_pid "$n" >/dev/null; then terminate "$(rmqc_pid "$n")" 30; fi
    rm -f "$RMQC_DIR/n$n/node.pid"
    ensure_port_free "$(rmqc_amqp_port "$n")" "rabbitmq-cluster node $n"
    ensure_port_free "$(rmqc_dist_port "$n")" "rabbitmq-cluster node $n"
    log "rabbitmq-cluster: starting node $(rmqc_node "$n") on 127.0.0.1:$(rmqc_amqp_port "$n")"
    mapfile -t vars < <(rmqc_env "$n")
    (cd "$RMQC_DIR/n$n" && exec setsid setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups -- \
        env "${vars[@]}" "$RMQ_LIB/rabbitmq-server") </dev/null >>"$RMQC_DIR/n$n/log/console.log" 2>&1 9>&- &
    launcher=$!
    for ((i = 0; i < 3000; i++)); do
        rmqc_registered "$n" && return 0
        if ! pid_alive "$launcher"; then
            tail -n 30 "$RMQC_DIR/n$n/log/console.log" >&2
            die "rabbitmq-cluster: node $n exited during start-up (logs in $RMQC_DIR/n$n/log)"
        fi
        sleep 0.1
    done
    die "rabbitmq-cluster: node $n never registered with epmd (logs in $RMQC_DIR/n$n/log)"
}

rmqc_await() {
    local n=$1 i
    rmqcctl "$n" -q await_startup --timeout 300 >&2 || die "rabbitmq-cluster: node $n did not finish starting (logs in $RMQC_DIR/n$n/log)"
    for ((i = 0; i < 300; i++)); do
        port_open "$(rmqc_amqp_port "$n")" && return 0
        sleep 0.1
    done
    die "rabbitmq-cluster: node $n does not listen on $(rmqc_amqp_port "$n")"
}

# The nodes node N sees running with it (one per line).
rmqc_running_nodes() { rmqcctl "$1" -q eval 'io:format("~s~n", [string:join([atom_to_list(N) || N <- rabbit_nodes:all_running()], "\n")]).' 2>/dev/null | grep '@' || true; }

# True when every node has booted before (its Mnesia directory exists): the cluster was formed on an earlier start.
rmqc_formed() {
    local n
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        [[ -d $RMQC_DIR/n$n/mnesia/$(rmqc_node "$n") ]] || return 1
    done
}

rmqc_start() {
    local n i running
    rmqc_write_config
    rmqc_epmd_start
    if rmqc_formed; then
        # A cluster that has run before boots all at once: a node's Mnesia may hold a transaction whose outcome only
        # its peers know (a node stopped mid-commit), and it waits for them before it finishes starting; node 1 alone
        # would wait forever.
        for ((n = 1; n <= CLUSTER_SIZE; n++)); do rmqc_launch "$n"; done
        for ((n = 1; n <= CLUSTER_SIZE; n++)); do rmqc_await "$n"; done
    else
        rmqc_launch 1
        rmqc_await 1
        for ((n = 2; n <= CLUSTER_SIZE; n++)); do rmqc_launch "$n"; done
        for ((n = 2; n <= CLUSTER_SIZE; n++)); do rmqc_await "$n"; done
    fi
    # Peer discovery only runs on a node's first boot; a node that came up alone (node 1 slow to answer) is joined
    # by hand. A restarted member rejoins by itself.
    for ((n = 2; n <= CLUSTER_SIZE; n++)); do
        if ! rmqc_running_nodes 1 | grep -qx "$(rmqc_node "$n")"; then
            log "rabbitmq-cluster: joining node $n to node 1"
            rmqcctl "$n" -q stop_app >&2
            rmqcctl "$n" -q reset >&2
            rmqcctl "$n" -q join_cluster "$(rmqc_node 1)" >&2
            rmqcctl "$n" -q start_app >&2
        fi
    done
    for ((i = 0; i < 600; i++)); do
        running=$(rmqc_running_nodes 1 | wc -l)
        ((running == CLUSTER_SIZE)) && break
        ((i < 599)) || die "rabbitmq-cluster: only $running of $CLUSTER_SIZE nodes are running in the cluster"
        sleep 0.5
    done
    # Users and permissions are cluster-wide: set once through node 1.
    if ! rmqcctl 1 -q authenticate_user pdm pdm >/dev/null 2>&1; then
        rmqcctl 1 -q add_user pdm pdm >/dev/null 2>&1 || rmqcctl 1 -q change_password pdm pdm >&2
        rmqcctl 1 -q set_user_tags pdm administrator >&2
        rmqcctl 1 -q set_permissions -p / pdm '.*' '.*' '.*' >&2
    fi
    log "rabbitmq-cluster: $CLUSTER_SIZE nodes running ($(for ((n = 1; n <= CLUSTER_SIZE; n++)); do printf '%s ' "$(rmqc_pid "$n" || echo '?')"; done))"
}

rmqc_stop() {
    local n pid epid
    for ((n = CLUSTER_SIZE; n >= 1; n--)); do
        if pid=$(rmqc_pid "$n"); then
            log "rabbitmq-cluster: stopping node $n (pid $pid)"
            RMQ_CLI_TIMEOUT=60 rmqcctl "$n" -q stop "$RMQC_DIR/n$n/node.pid" >&2 || true
            terminate "$pid" 30
        fi
        rm -f "$RMQC_DIR/n$n/node.pid"
    done
    if epid=$(rmqc_epmd_pid); then terminate "$epid" 5; fi
    rm -f "$RMQC_EPMD_PID_FILE"
}

rmqc_running() {
    local n
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        rmqc_pid "$n" >/dev/null && port_open "$(rmqc_amqp_port "$n")" || return 1
    done
}

rmqc_status() {
    local n pid failed=0
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        if pid=$(rmqc_pid "$n") && port_open "$(rmqc_amqp_port "$n")"; then
            printf 'rabbitmq-cluster:%d running  127.0.0.1:%s  pid %s  %s\n' "$n" "$(rmqc_amqp_port "$n")" "$pid" "$(rmqc_node "$n")"
        else
            printf 'rabbitmq-cluster:%d stopped  127.0.0.1:%s\n' "$n" "$(rmqc_amqp_port "$n")"
            failed=1
        fi
    done
    return "$failed"
}

rmqc_vhost() {
    local name=$1
    [[ $name =~ ^[A-Za-z0-9_.-]{1,200}$ ]] || die "vhost name must match [A-Za-z0-9_.-]+: '$name'"
    local n
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        rmqc_pid "$n" >/dev/null || continue
        if ! rmqcctl "$n" -q add_vhost "$name" >&2; then
            rmqcctl "$n" -q list_vhosts name | grep -qx -- "$name" || die "rabbitmq-cluster: could not create vhost $name"
        fi
        rmqcctl "$n" -q set_permissions -p "$name" pdm '.*' '.*' '.*' >&2
        log "rabbitmq-cluster: vhost $name ready for user pdm"
        return 0
    done
    die "rabbitmq-cluster is not running: run infra/local/deps.sh start rabbitmq-cluster"
}

# The vhosts tests leave behind. Each test fixture makes its own (LocalDependencies.UniqueName: PREFIX_PID_HEX, PID
# being the test process's) and never deletes it, and a restarted node recovers every vhost it has: a killed node with
# 205 of them took 61 s to start again here, an empty one 6 s. A vhost whose test process has exited is nobody's; one
# whose process is alive (a test or a benchmark still running), or whose name has another form, is never touched.
finished_test_vhosts() {
    local name
    while IFS= read -r name; do
        if [[ $name =~ _([0-9]+)_[0-9a-f]+$ ]] && [[ ! -d /proc/${BASH_REMATCH[1]} ]]; then echo "$name"; fi
    done
    return 0
}

# prune_vhosts LABEL CTL...: CTL is the rabbitmqctl of one running node (a cluster deletes a vhost on every node).
prune_vhosts() {
    local label=$1 names list vhosts
    shift
    names=$("$@" -q list_vhosts name | finished_test_vhosts) || die "$label: could not list vhosts"
    if [[ -z $names ]]; then
        log "$label: no vhost of a finished test"
        return 0
    fi
    # One rabbitmqctl for all of them: each call starts an Erlang VM (about a second).
    mapfile -t vhosts <<<"$names"
    list=$(printf '<<"%s">>,' "${vhosts[@]}")
    "$@" -q eval "lists:foreach(fun(V) -> ok = rabbit_vhost:delete(V, <<\"pdm-tests\">>) end, [${list%,}])." >/dev/null \
        || die "$label: could not delete the vhosts of finished tests"
    log "$label: deleted ${#vhosts[@]} vhost(s) of finished tests"
}

rmqc_prune_vhosts() {
    local n
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        rmqc_pid "$n" >/dev/null || continue
        prune_vhosts rabbitmq-cluster rmqcctl "$n"
        return 0
    done
    log "rabbitmq-cluster: not running, nothing to prune"
}

# Fault injection: suspends (or resumes) a quorum queue's Raft member on every running node of the cluster but node 1
# (sys:suspend on its Ra server process). With node 1, the leader, killed while they are suspended, the queue has no
# leader until they are resumed, however long that is: the window in which a channel opened on a surviving node finds
# only the dead leader in the queue record (RabbitMQ 3.10, what this script runs, keeps that channel rejecting every
# publish to the queue from then on; rabbitmq-server PR 9241 changed this in 3.11 and 3.12). Ra registers a queue's
# server as VHOST_QUEUE on each node.
rmqc_quorum_members() {
    local action=$1 vhost=$2 queue=$3 n done=0 erl
    erl="case whereis('${vhost}_${queue}') of undefined -> io:format(\"absent~n\"); P -> sys:${action}(P), io:format(\"done~n\") end."
    for ((n = 2; n <= CLUSTER_SIZE; n++)); do
        rmqc_pid "$n" >/dev/null || continue
        case $(rmqcctl "$n" -q eval "$erl") in
            *done*) done=$((done + 1)) ;;
            *) die "rabbitmq-cluster: queue $queue of vhost $vhost has no Raft member on node $n" ;;
        esac
    done
    ((done > 0)) || die "rabbitmq-cluster: no running node besides node 1"
    log "rabbitmq-cluster: $action: the Raft member of $vhost/$queue on $done node(s)"
}

rmqc_nodes_list() {
    local n out=''
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do out+="${out:+,}127.0.0.1:$(rmqc_amqp_port "$n")"; done
    echo "$out"
}

# ---------------------------------------------------------------------------------------------- Mosquitto

mqtt_pid() {
    local pid
    pid=$(live_pid_from "$MQTT_PID_FILE" mosquitto) || return 1
    echo "$pid"
}

mqtt_start() {
    local i pid
    [[ -f $MQTT_TEMPLATE ]] || die "mosquitto: template $MQTT_TEMPLATE is missing"
    mkdir -p "$MQTT_DIR/data" "$MQTT_IDENTITIES"
    pki_install "$MQTT_DIR/tls" mosquitto
    [[ -f $MQTT_DIR/passwords ]] || : >"$MQTT_DIR/passwords"
    mqtt_write_acl
    {
        sed -E "s/^listener 16883 /listener $MQTT_PORT /" "$MQTT_TEMPLATE"
        printf '\n# ---- appended by infra/local/deps.sh: runtime paths under %s\n' "$STATE_DIR"
        printf 'persistence_location %s/\n' "$MQTT_DIR/data"
        printf 'pid_file %s\n' "$MQTT_PID_FILE"
        printf 'log_dest file %s\n' "$MQTT_DIR/mosquitto.log"
        # Device identity (what infra/mosquitto/mosquitto.conf does in a plant): TLS with a client certificate of the
        # local CA, a password per identity, and an ACL entry per identity; `deps.sh mqtt-identity` issues and revokes.
        printf '\n# ---- TLS listener: client certificate of the local CA + password + ACL, never anonymous\n'
        printf 'listener %s 127.0.0.1\n' "$MQTT_TLS_PORT"
        printf 'cafile %s\ncertfile %s\nkeyfile %s\n' "$MQTT_DIR/tls/ca.crt" "$MQTT_DIR/tls/server.crt" "$MQTT_DIR/tls/server.key"
        printf 'tls_version tlsv1.2\nrequire_certificate true\nallow_anonymous false\n'
        printf 'password_file %s\nacl_file %s\n' "$MQTT_DIR/passwords" "$MQTT_DIR/acl"
    } >"$MQTT_DIR/mosquitto.conf"
    # Started as root, mosquitto drops to user mosquitto before it writes persistence and logs.
    chown -R mosquitto:mosquitto "$MQTT_DIR"
    if pid=$(mqtt_pid) && ! port_open "$MQTT_TLS_PORT"; then
        # A broker started before its configuration had the TLS listener: listeners are read only at start.
        log "mosquitto: pid $pid has no TLS listener on $MQTT_TLS_PORT; restarting it"
        terminate "$pid" 30
    fi
    if ! mqtt_pid >/dev/null; then
        rm -f "$MQTT_PID_FILE"
        ensure_port_free "$MQTT_PORT" mosquitto
        ensure_port_free "$MQTT_TLS_PORT" mosquitto
        log "mosquitto: starting on 127.0.0.1:$MQTT_PORT (TLS $MQTT_TLS_PORT)"
        mosquitto -c "$MQTT_DIR/mosquitto.conf" -d </dev/null >>"$MQTT_DIR/console.log" 2>&1 9>&- ||
            { tail -n 20 "$MQTT_DIR/mosquitto.log" "$MQTT_DIR/console.log" >&2 2>/dev/null; explain_ports "$MQTT_PORT" "$MQTT_TLS_PORT"; die "mosquitto: failed to start"; }
    fi
    # The broker answers when a subscriber gets its retained $SYS/broker/version.
    for ((i = 0; i < 30; i++)); do
        if mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t '$SYS/broker/version' -C 1 -W 5 >/dev/null 2>&1; then
            log "mosquitto: running (pid $(mqtt_pid || echo '?'))"
            return 0
        fi
        sleep 0.2
    done
    tail -n 20 "$MQTT_DIR/mosquitto.log" >&2 || true
    explain_ports "$MQTT_PORT" "$MQTT_TLS_PORT"
    die "mosquitto: broker does not answer on 127.0.0.1:$MQTT_PORT"
}

# The ACL file is the concatenation of every issued identity's entry (one file per identity, so revoking is a delete).
mqtt_write_acl() {
    local tmp=$MQTT_DIR/acl.tmp
    {
        echo '# Written by infra/local/deps.sh from identities/*.acl; anything not granted is denied.'
        cat "$MQTT_IDENTITIES"/*.acl 2>/dev/null || true
    } >"$tmp"
    chown mosquitto:mosquitto "$tmp"
    mv -f "$tmp" "$MQTT_DIR/acl"
}

# Waits until connecting as identity NAME over TLS gives the expected result (0 accepted, 1 refused): the broker
# applies a SIGHUP asynchronously, and the caller must not return before the change holds.
mqtt_await_login() {
    local name=$1 want=$2 password=$3 i got
    for ((i = 0; i < 100; i++)); do
        if mosquitto_sub -h 127.0.0.1 -p "$MQTT_TLS_PORT" --cafile "$PKI_DIR/ca.crt" --cert "$MQTT_IDENTITIES/$name.crt" \
            --key "$MQTT_IDENTITIES/$name.key" -u "$name" -P "$password" -i "probe-$name-$$" -t "pdm/_probe/$name" -E -W 5 \
            >/dev/null 2>&1; then got=0; else got=1; fi
        ((got == want)) && return 0
        sleep 0.1
    done
    die "mosquitto: identity $name is still $( ((want == 0)) && echo refused || echo accepted) after the reload"
}

mqtt_reload() {
    local pid
    pid=$(mqtt_pid) || die "mosquitto is not running: run infra/local/deps.sh start mosquitto"
    kill -HUP "$pid"
}

mqtt_identity() {
    local action=${1:-} kind=${2:-} name site asset node group password acl
    local id_re='^[A-Za-z0-9_.-]{1,64}$'
    exec 8>"$STATE_DIR/mqtt-identity.lock"
    flock -x -w 120 8 || die "timed out waiting for $STATE_DIR/mqtt-identity.lock"
    mqtt_pid >/dev/null || die "mosquitto is not running: run infra/local/deps.sh start mosquitto"
    case $action in
        issue)
            case $kind in
                device)
                    (($# == 5 || $# == 6)) || die "usage: deps.sh mqtt-identity issue device NAME SITE ASSET [GROUP/NODE]"
                    name=$3 site=$4 asset=$5 node=${6:-}
                    ;;
                gateway)
                    (($# == 4)) || die "usage: deps.sh mqtt-identity issue gateway NAME SITE"
                    name=$3 site=$4 asset='' node=''
                    ;;
                *) die "usage: deps.sh mqtt-identity issue device|gateway NAME ..." ;;
            esac
            for value in "$name" "$site" ${asset:+"$asset"}; do
                [[ $value =~ $id_re ]] || die "mqtt-identity: '$value' must be 1-64 letters, digits, '_', '.', '-' (a topic segment)"
            done
            if [[ -n $node ]]; then
                [[ $node =~ ^([A-Za-z0-9_.-]{1,64})/([A-Za-z0-9_.-]{1,64})$ ]] || die "mqtt-identity: Sparkplug node must be GROUP/NODE"
                group=${BASH_REMATCH[1]} node=${BASH_REMATCH[2]}
            fi
            if [[ $kind == device ]]; then
                acl="user $name"$'\n'"topic write pdm/$site/$asset/telemetry"$'\n'
                if [[ -n $node ]]; then
                    for type in NBIRTH NDATA NDEATH; do acl+="topic write spBv1.0/$group/$type/$node"$'\n'; done
                    for type in DBIRTH DDATA DDEATH; do acl+="topic write spBv1.0/$group/$type/$node/#"$'\n'; done
                    acl+="topic read spBv1.0/$group/NCMD/$node"$'\n'"topic read spBv1.0/$group/DCMD/$node/#"$'\n'
                    acl+="topic read spBv1.0/STATE/#"$'\n'
                fi
            else
                # Everything the gateway subscribes to for its site (TelemetryIngestor.SubscriptionFilters), its dead
                # letters, and its Sparkplug host duties (STATE, rebirth requests).
                acl="user $name"$'\n'"topic read pdm/$site/#"$'\n'"topic write pdm/$site/_deadletter"$'\n'
                acl+="topic read v1/devices/me/telemetry"$'\n'"topic read v1/gateway/telemetry"$'\n'
                acl+="topic read devices/+/messages/events/#"$'\n'"topic readwrite spBv1.0/#"$'\n'
            fi
            password=$(openssl rand -hex 24)
            pki_sign "$name" "$name" 'extendedKeyUsage=clientAuth' "$MQTT_IDENTITIES"
            openssl pkcs12 -export -passout pass: -in "$MQTT_IDENTITIES/$name.crt" -inkey "$MQTT_IDENTITIES/$name.key" \
                -out "$MQTT_IDENTITIES/$name.pfx" 2>/dev/null || die "mqtt-identity: could not write $name.pfx"
            printf '%s\n' "$acl" >"$MQTT_IDENTITIES/$name.acl"
            # Kept (dev/test state only) so that revoke can prove the login is refused with the real password.
            printf '%s\n' "$password" >"$MQTT_IDENTITIES/$name.password"
            mosquitto_passwd -b "$MQTT_DIR/passwords" "$name" "$password" 2>/dev/null || die "mqtt-identity: mosquitto_passwd failed"
            mqtt_write_acl
            # Tests run as root and read the key; the broker itself needs only the password file and the ACL.
            chmod 644 "$MQTT_IDENTITIES/$name".{crt,key,pfx}
            chmod 600 "$MQTT_IDENTITIES/$name.password"
            chown mosquitto:mosquitto "$MQTT_DIR/passwords" "$MQTT_IDENTITIES/$name.acl"
            mqtt_reload
            mqtt_await_login "$name" 0 "$password"
            printf 'cert=%s\nkey=%s\npfx=%s\npassword=%s\nca=%s\nhost=127.0.0.1\nport=%s\n' \
                "$MQTT_IDENTITIES/$name.crt" "$MQTT_IDENTITIES/$name.key" "$MQTT_IDENTITIES/$name.pfx" "$password" \
                "$PKI_DIR/ca.crt" "$MQTT_TLS_PORT"
            log "mosquitto: issued $kind identity $name"
            ;;
        revoke)
            (($# == 2)) || die "usage: deps.sh mqtt-identity revoke NAME"
            name=$2
            [[ $name =~ $id_re ]] || die "mqtt-identity: bad name '$name'"
            if [[ ! -f $MQTT_IDENTITIES/$name.acl ]]; then
                log "mosquitto: no identity $name (never issued, or already revoked)"
                return 0
            fi
            password=$(cat "$MQTT_IDENTITIES/$name.password")
            rm -f "$MQTT_IDENTITIES/$name.acl" "$MQTT_IDENTITIES/$name.password"
            mosquitto_passwd -D "$MQTT_DIR/passwords" "$name" 2>/dev/null || true
            chown mosquitto:mosquitto "$MQTT_DIR/passwords"
            mqtt_write_acl
            mqtt_reload
            # The certificate still chains to the CA, but without its password entry the broker refuses the login.
            mqtt_await_login "$name" 1 "$password"
            rm -f "$MQTT_IDENTITIES/$name".{crt,key,pfx}
            log "mosquitto: revoked identity $name"
            ;;
        *) die "usage: deps.sh mqtt-identity issue|revoke ..." ;;
    esac
}

mqtt_stop() {
    local pid
    if pid=$(mqtt_pid); then
        log "mosquitto: stopping pid $pid"
        # TERM makes mosquitto save its persistence file before exiting.
        terminate "$pid" 30
    fi
    rm -f "$MQTT_PID_FILE"
}

# ---------------------------------------------------------------------------------------------- Prometheus

prom_pid() {
    local pid
    pid=$(live_pid_from "$PROM_PID_FILE" prometheus) || return 1
    echo "$pid"
}

# bash's /dev/tcp speaks enough HTTP to read the status line (no curl needed on a clean machine).
prom_ready() {
    (exec 3<>"/dev/tcp/127.0.0.1/$PROM_PORT" && printf 'GET /-/ready HTTP/1.0\r\n\r\n' >&3 && head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
}

# The scrape targets: `make run` (the demo serves /metrics on 5080) unless PDM_PROMETHEUS_TARGETS names others
# (comma-separated host:port). Rewritten on every start, so a second start picks up new targets and rules.
prom_write_config() {
    local targets=${PDM_PROMETHEUS_TARGETS:-127.0.0.1:5080} list='' target parts
    [[ -f $PROM_RULES ]] || die "prometheus: rules file $PROM_RULES is missing"
    IFS=',' read -r -a parts <<<"$targets"
    for target in "${parts[@]}"; do list+="${list:+, }'$target'"; done
    mkdir -p "$PROM_DIR/data"
    cp "$PROM_RULES" "$PROM_DIR/alerts.yml"
    cat >"$PROM_DIR/prometheus.yml" <<EOF
# Written by infra/local/deps.sh on every start; edit the script (or PDM_PROMETHEUS_TARGETS), not this file.
global:
  scrape_interval: 5s
  evaluation_interval: 5s
rule_files:
  - $PROM_DIR/alerts.yml
scrape_configs:
  - job_name: pdm
    static_configs:
      - targets: [$list]
  # RabbitMQ's plugin: node totals (connections, publish/deliver rates, alarms) and, per queue, depth and consumers.
  - job_name: rabbitmq
    static_configs:
      - targets: ['127.0.0.1:$RMQ_PROM_PORT']
  - job_name: rabbitmq-queues
    metrics_path: /metrics/detailed
    params:
      family: [queue_coarse_metrics, queue_consumer_count]
    static_configs:
      - targets: ['127.0.0.1:$RMQ_PROM_PORT']
  - job_name: postgres
    static_configs:
      - targets: ['127.0.0.1:$PGEXP_PORT']
EOF
}

pgexp_pid() {
    local pid
    pid=$(live_pid_from "$PGEXP_PID_FILE" prometheus-pos) || return 1
    echo "$pid"
}

# Debian's PostgreSQL exporter against the local cluster, as the platform's user (it reads pg_stat_* of every
# database); when PostgreSQL is down it serves pg_up 0, which is what the dashboard should show.
pgexp_start() {
    pgexp_pid >/dev/null && return 0
    ensure_port_free "$PGEXP_PORT" "prometheus (PostgreSQL exporter)"
    log "prometheus: PostgreSQL exporter on 127.0.0.1:$PGEXP_PORT"
    DATA_SOURCE_NAME="postgresql://pdm:pdm@127.0.0.1:$PG_PORT/postgres?sslmode=disable" \
        setsid prometheus-postgres-exporter --web.listen-address="127.0.0.1:$PGEXP_PORT" --disable-settings-metrics \
        </dev/null >>"$PROM_DIR/postgres-exporter.log" 2>&1 9>&- &
    echo $! >"$PGEXP_PID_FILE"
}

pgexp_stop() {
    local pid
    if pid=$(pgexp_pid); then
        log "prometheus: stopping the PostgreSQL exporter (pid $pid)"
        terminate "$pid" 10
    fi
    rm -f "$PGEXP_PID_FILE"
}

prom_start() {
    local i pid
    prom_write_config
    pgexp_start
    if pid=$(prom_pid); then
        kill -HUP "$pid" # running already: reread the rewritten configuration and rules
    else
        ensure_port_free "$PROM_PORT" prometheus
        log "prometheus: starting on 127.0.0.1:$PROM_PORT (scraping ${PDM_PROMETHEUS_TARGETS:-127.0.0.1:5080})"
        setsid prometheus --config.file="$PROM_DIR/prometheus.yml" --storage.tsdb.path="$PROM_DIR/data" \
            --web.listen-address="127.0.0.1:$PROM_PORT" </dev/null >>"$PROM_DIR/prometheus.log" 2>&1 9>&- &
        echo $! >"$PROM_PID_FILE"
    fi
    for ((i = 0; i < 300; i++)); do
        if prom_ready; then
            log "prometheus: running (pid $(prom_pid || echo '?'))"
            return 0
        fi
        prom_pid >/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$PROM_DIR/prometheus.log" >&2 || true
    explain_ports "$PROM_PORT"
    die "prometheus: not ready on 127.0.0.1:$PROM_PORT"
}

prom_stop() {
    local pid
    if pid=$(prom_pid); then
        log "prometheus: stopping pid $pid"
        terminate "$pid" 30
    fi
    rm -f "$PROM_PID_FILE"
    pgexp_stop
}

# ---------------------------------------------------------------------------------------------- commands

print_env() {
    local pg_admin="Host=127.0.0.1;Port=$PG_PORT;Username=pdm;Password=pdm;Database=postgres"
    local pg_app="Host=127.0.0.1;Port=$PG_PORT;Username=pdm;Password=pdm;Database=pdm"
    local amqp="amqp://pdm:pdm@127.0.0.1:$AMQP_PORT/"
    local name value
    while IFS='=' read -r name value; do
        printf "export %s='%s'\n" "$name" "$value"
    done <<EOF
PDM_STATE_DIR=$STATE_DIR
PDM_PORT_OFFSET=$PORT_OFFSET
PDM_POSTGRES=$pg_admin
ConnectionStrings__Postgres=$pg_app
PDM_RABBITMQ_URI=$amqp
Messaging__RabbitMq__Uri=$amqp
PDM_MQTT_HOST=127.0.0.1
PDM_MQTT_PORT=$MQTT_PORT
Gateway__Mqtt__Host=127.0.0.1
Gateway__Mqtt__Port=$MQTT_PORT
PDM_MQTT_TLS_PORT=$MQTT_TLS_PORT
PDM_RABBITMQ_TLS_PORT=$AMQPS_PORT
PDM_TLS_CA=$PKI_DIR/ca.crt
Simulator__Mqtt__Host=127.0.0.1
Simulator__Mqtt__Port=$MQTT_PORT
PDM_RABBITMQ_CLUSTER_URI=amqp://pdm:pdm@127.0.0.1:$(rmqc_amqp_port 1)/
PDM_RABBITMQ_CLUSTER_NODES=$(rmqc_nodes_list)
PDM_PROMETHEUS_URL=http://127.0.0.1:$PROM_PORT
PDM_RABBITMQ_PROMETHEUS=127.0.0.1:$RMQ_PROM_PORT
EOF
}

# What a host needs to use the cluster: the first node in the URI, every node in ClusterNodes (MassTransit connects
# to the first that answers and fails over to the others).
print_cluster_env() {
    local n
    printf "export Messaging__Transport='RabbitMq'\n"
    printf "export Messaging__RabbitMq__Uri='amqp://pdm:pdm@127.0.0.1:%s/'\n" "$(rmqc_amqp_port 1)"
    for ((n = 1; n <= CLUSTER_SIZE; n++)); do
        printf "export Messaging__RabbitMq__ClusterNodes__%d='127.0.0.1:%s'\n" $((n - 1)) "$(rmqc_amqp_port "$n")"
    done
    printf "export Messaging__RabbitMq__QueueType='Quorum'\n"
}

# Fails when two port bases differ by a multiple of 100 up to 900 (the servers of two offsets would then collide), or
# when a base plus an offset up to 900 lies in this machine's ephemeral range (see the header).
check_ports() {
    local a b d offset bad=0
    for a in "${PORT_BASES[@]}"; do
        for b in "${PORT_BASES[@]}"; do
            ((a < b)) || continue
            d=$((b - a))
            if ((d % 100 == 0 && d <= 900)); then log "ports $a and $b collide across offsets"; bad=1; fi
        done
    done
    for a in "${PORT_BASES[@]}"; do
        for ((offset = 0; offset <= 900; offset += 100)); do
            if in_ephemeral_range $((a + offset)); then
                log "port $a + offset $offset lies in the ephemeral range $EPHEMERAL_LOW-$EPHEMERAL_HIGH"
                bad=1
                break
            fi
        done
    done
    ((bad == 0)) && printf '%s\n' "${PORT_BASES[@]}"
    return "$bad"
}

# An offset beyond 900 may push this checkout's ports into the ephemeral range: allowed, but said once per start.
warn_if_ephemeral() {
    local base
    for base in "${PORT_BASES[@]}"; do
        if in_ephemeral_range $((base + PORT_OFFSET)); then
            log "warning: with PDM_PORT_OFFSET=$PORT_OFFSET port $((base + PORT_OFFSET)) lies in the kernel's ephemeral range $EPHEMERAL_LOW-$EPHEMERAL_HIGH: an outgoing connection may take it while its server is down"
            return 0
        fi
    done
}

svc_port() {
    case $1 in
        postgres) echo "$PG_PORT" ;;
        rabbitmq) echo "$AMQP_PORT" ;;
        mosquitto) echo "$MQTT_PORT" ;;
        rabbitmq-cluster) rmqc_nodes_list ;;
        prometheus) echo "$PROM_PORT" ;;
    esac
}

svc_pid() {
    case $1 in
        postgres) pg_pid ;;
        rabbitmq) rmq_pid ;;
        mosquitto) mqtt_pid ;;
        rabbitmq-cluster) for ((n = 1; n <= CLUSTER_SIZE; n++)); do rmqc_pid "$n" || return 1; done ;;
        prometheus) prom_pid ;;
    esac
}

svc_running() {
    case $1 in
        postgres) pg_pid >/dev/null && pg_ready ;;
        rabbitmq) rmq_pid >/dev/null && port_open "$AMQP_PORT" ;;
        mosquitto) mqtt_pid >/dev/null && port_open "$MQTT_PORT" ;;
        rabbitmq-cluster) rmqc_running ;;
        prometheus) prom_pid >/dev/null && prom_ready ;;
    esac
}

svc_start() {
    case $1 in
        postgres) pg_start ;;
        rabbitmq) rmq_start ;;
        mosquitto) mqtt_start ;;
        rabbitmq-cluster) rmqc_start ;;
        prometheus) prom_start ;;
    esac
}

svc_stop() {
    case $1 in
        postgres) pg_stop ;;
        rabbitmq) rmq_stop ;;
        mosquitto) mqtt_stop ;;
        rabbitmq-cluster) rmqc_stop ;;
        prometheus) prom_stop ;;
    esac
}

services_from_args() {
    local svc
    if (($# == 0)); then set -- "${ALL_SERVICES[@]}"; fi
    for svc in "$@"; do
        case $svc in
            postgres | rabbitmq | mosquitto | rabbitmq-cluster | prometheus) echo "$svc" ;;
            *) die "unknown service '$svc' (expected: ${ALL_SERVICES[*]} rabbitmq-cluster prometheus)" ;;
        esac
    done
}

# start/stop/restart take the lock exclusively; vhost shares it, so it waits for a restart to finish.
# Every server is launched with fd 9 closed (`9>&-`): a daemon that inherited it would hold the lock forever.
# PDM_LOCK_WAIT_SECONDS (default 600: a cluster start on a loaded machine has taken minutes) bounds the wait; past it
# the error names every process holding the lock file, since a wait that ends there usually means one never lets go.
take_lock() {
    local wait=${PDM_LOCK_WAIT_SECONDS:-600}
    [[ $wait =~ ^[0-9]+$ ]] || die "PDM_LOCK_WAIT_SECONDS must be a whole number of seconds: '$wait'"
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/deps.lock"
    flock "$1" -w "$wait" 9 || die "timed out after $wait s waiting for $STATE_DIR/deps.lock, held by:
$(lock_holders "$STATE_DIR/deps.lock")"
}

# Every other process with the lock file open, with its command line, one per line: not this script nor what it forked
# (its subshells inherit the lock's file descriptor, and bash keeps a copy of it across a redirection).
lock_holders() {
    local lock pid
    lock=$(readlink -f "$1")
    find /proc/[0-9]*/fd -maxdepth 1 -lname "$lock" 2>/dev/null | cut -d/ -f3 | sort -un | while read -r pid; do
        # Gone since (one of this listing's own commands), or this script's: not a holder.
        [[ -r /proc/$pid/cmdline ]] || continue
        descends_from_this_script "$pid" && continue
        printf '  pid %s: %s\n' "$pid" "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-200)"
    done
}

descends_from_this_script() {
    local pid=$1
    while [[ -n $pid && $pid -gt 1 ]]; do
        [[ $pid == "$$" ]] && return 0
        # The parent pid follows the state letter after the command name, which may itself hold spaces or parentheses.
        pid=$(sed -E 's/.*\) [A-Za-z] ([0-9]+) .*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 0
    done
    return 1
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//' >&2
    exit 2
}

main() {
    local cmd=${1:-} svc services=() failed=0
    (($# > 0)) && shift
    case $cmd in
        start | stop | restart | status)
            services_from_args "$@" >/dev/null # dies on an unknown name (a process substitution could not)
            mapfile -t services < <(services_from_args "$@")
            ((${#services[@]} > 0)) || exit 2
            ;;
    esac
    case $cmd in
        start)
            take_lock -x
            ensure_packages
            pki_ensure
            warn_if_ephemeral
            for svc in "${services[@]}"; do svc_start "$svc"; done
            print_env
            if [[ " ${services[*]} " == *' rabbitmq-cluster '* ]]; then
                echo "# the cluster's settings for a host: eval \"\$(infra/local/deps.sh env rabbitmq-cluster)\""
                print_cluster_env | sed 's/^/# /'
            fi
            ;;
        stop)
            take_lock -x
            for svc in "${services[@]}"; do svc_stop "$svc"; done
            ;;
        restart)
            (($# > 0)) || die "restart needs a service: ${ALL_SERVICES[*]}"
            take_lock -x
            ensure_packages
            pki_ensure
            for svc in "${services[@]}"; do svc_stop "$svc"; done
            for svc in "${services[@]}"; do svc_start "$svc"; done
            print_env
            ;;
        status)
            for svc in "${services[@]}"; do
                if [[ $svc == rabbitmq-cluster ]]; then
                    rmqc_status || failed=1
                    continue
                fi
                if svc_running "$svc"; then
                    printf '%-9s running  127.0.0.1:%s  pid %s\n' "$svc" "$(svc_port "$svc")" "$(svc_pid "$svc")"
                else
                    printf '%-9s stopped  127.0.0.1:%s\n' "$svc" "$(svc_port "$svc")"
                    failed=1
                fi
            done
            return "$failed"
            ;;
        reset)
            # Tests create a vhost per fixture and never reuse it: on a long-lived .state they pile up (hundreds), and
            # a RabbitMQ restart recovers every one of them, which can outlast the start-up timeout. Test data only.
            # On the cluster each node-kill test restarts node 1, which recovers every quorum queue of every vhost: with
            # a few hundred of them, RabbitMQ 3.10 has been seen to crash their dead-letter workers
            # (rabbit_fifo_dlx_sup noproc) and leave the queues without a leader.
            [[ (${1:-} == rabbitmq || ${1:-} == rabbitmq-cluster) && $# == 1 ]] || die "usage: deps.sh reset rabbitmq|rabbitmq-cluster"
            take_lock -x
            ensure_packages
            pki_ensure
            svc_stop "$1"
            if [[ $1 == rabbitmq ]]; then
                rm -rf "$RMQ_DIR/mnesia"
            else
                rm -rf "$RMQC_DIR"/n*/mnesia
            fi
            svc_start "$1"
            print_env
            ;;
        env)
            case ${1:-} in
                '') print_env ;;
                rabbitmq-cluster) print_cluster_env ;;
                *) die "usage: deps.sh env [rabbitmq-cluster]" ;;
            esac
            ;;
        ports) check_ports ;;
        mqtt-identity)
            take_lock -s
            mqtt_identity "$@"
            ;;
        queues)
            (($# == 1 || $# == 2)) || die "usage: deps.sh queues VHOST [rabbitmq-cluster]"
            if [[ ${2:-} == rabbitmq-cluster ]]; then
                # The leader and the message count too: where a quorum queue's Raft leader was is what a node-kill test must know.
                rmqcctl 1 -q list_queues -p "$1" name type arguments leader messages --no-table-headers
            else
                rmqctl -q list_queues -p "$1" name type arguments --no-table-headers
            fi
            ;;
        quorum-members)
            (($# == 3)) && [[ $1 == suspend || $1 == resume ]] || die "usage: deps.sh quorum-members suspend|resume VHOST QUEUE"
            rmqc_quorum_members "$@"
            ;;
        vhost)
            (($# == 1 || $# == 2)) || die "usage: deps.sh vhost NAME [rabbitmq-cluster]"
            take_lock -s
            if [[ ${2:-} == rabbitmq-cluster ]]; then rmqc_vhost "$1"; else rmq_vhost "$1"; fi
            ;;
        prune-vhosts)
            (($# == 0)) || [[ $# == 1 && $1 == rabbitmq-cluster ]] || die "usage: deps.sh prune-vhosts [rabbitmq-cluster]"
            take_lock -s
            if (($# == 1)); then
                rmqc_prune_vhosts
            else
                if rmq_pid >/dev/null; then prune_vhosts rabbitmq rmqctl; else log "rabbitmq: not running, nothing to prune"; fi
            fi
            ;;
        memory-alarm)
            (($# == 1)) && [[ $1 == raise || $1 == clear ]] || die "usage: deps.sh memory-alarm raise|clear"
            take_lock -s
            # Runtime only: a restart brings the configured watermark back, so a test that dies mid-alarm leaves no trace.
            if [[ $1 == raise ]]; then rmqctl -q set_vm_memory_high_watermark absolute 1; else rmqctl -q set_vm_memory_high_watermark 0.4; fi
            ;;
        pid)
            (($# == 1)) || die "usage: deps.sh pid SERVICE (rabbitmq-cluster:N for node N)"
            if [[ $1 =~ ^rabbitmq-cluster:([1-9])$ ]] && ((BASH_REMATCH[1] <= CLUSTER_SIZE)); then
                rmqc_pid "${BASH_REMATCH[1]}" || die "$1 is not running"
                return 0
            fi
            services_from_args "$1" >/dev/null
            svc_pid "$1" || die "$1 is not running"
            ;;
        *) usage ;;
    esac
}

main "$@"

#!/usr/bin/env bash
#
# Benchmarks ttai with wrk against one nginx started here, and prints for
# each endpoint requests/s, p50 and p99 latency, the server's CPU time per
# request, and the ratio of its requests/s to its own baseline: a plain
# "return 200" location of the same server for /health and the KV and D1
# endpoints; for MCP tools/list and for get_quotes answered from the KV
# cache, a location that serves the very bytes ttai answers them with,
# captured once at the start (equal payloads).  The targets are judged on
# that ratio: /health at least 0.95, tools/list at least 0.7, get_quotes
# from the cache at least 0.6.  get_quotes on a cache miss goes through
# the worker service to the mock TastyTrade API of conf/mock/: its p50 and
# p99 are the figures.
#
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/bench.sh [--duration S] [--rounds R] [--connections N]
                       [--threads N] [--journal on|off] [NAME...]
       scripts/bench.sh --callgrind [--requests N] [NAME...]

Starts nginx with the built module (2 workers, on a free loopback port),
then runs wrk against each endpoint R times (default 3) for S seconds
(default 2) with N connections (default 32) and N threads (default 2),
each time right after its baseline for as long, and prints a table:
requests/s, the median p50 and p99 in microseconds, cpu_us (the CPU
time of nginx's workers per request, user and system), and the ratio of
requests/s to that of the baseline the last columns name over the same
rounds, so that a change of load on the machine weighs on both alike.

--journal sets the journal of the KV and sessions zones (default on,
as in conf/dev.conf and conf/prod.conf): kv-put, a PUT of the admin API,
is answered once its record is synced to build/bench/state/kv/; with
"off" it lives in memory until the next snapshot (every hour here).

NAME limits the run to some endpoints (see the first column); the
baselines of those run too.  The baselines:
  baseline               "return 200": for health, kv-*, d1-*, and for
                         mcp-get-session-info and get-quotes-miss
  static-tools-list      the bytes of ttai's answer to tools/list,
  static-tools-list-2026 of its 2026-07-28 answer to tools/list,
  static-tools-trading  of that answer where trading is on, and
  static-get-quotes-hit  of get_quotes answered from KV, captured with
                         curl first and served from a file nginx keeps
                         open, with the same Content-Type
workflow-steps makes WORKFLOWS (1000) instances of the workflow "demo"
due at once and waits until all are complete: steps/s.
queue-throughput sends QUEUE_MESSAGES (20000) to a queue with the CLI
and waits for the echo consumer to ack them all: messages/s produced
and consumed, and /health's p99 meanwhile.
monitor-pass gives MONITOR_USERS (1000) users 5 alert rules each on 20
symbols whose quotes are in KV, makes them all due at once, and prints
how long the monitor's pass took and how late a 1 ms timer in the
worker that ran it fired meanwhile (p50, p99, max: the event loop's
delay, which on a busy machine also counts the time the kernel gave
other processes: the machine's own lateness of a 1 ms sleep is printed
first), the CPU time of the monitor's longest turn on the loop, and
/health's p99 as a client saw it; once with nothing else running, once
while wrk keeps /health busy.
listen-fanout opens 1000 subscriptions/listen streams (LISTEN_STREAMS)
on the two workers and fans one change out to all of them 5 times
(scripts/bench/listen-fanout.mjs): it prints the delivery latency from
the trigger to each stream (p50, p99, max) and the workers' memory per
idle stream.
dxlink-feed subscribes DXLINK_SYMBOLS (1000) symbols on the market-data
stream, from the DXLink mock (conf/mock/dxlink.mjs --synthetic, each
symbol's Quote, Trade and Greeks every 100 ms: 10 updates a second),
asked for by get_greeks; it prints the events/s the feed worker takes in
and writes to KV, that worker's CPU, the longest read of the feed (CPU
time), and /health's p50 and p99 on both workers meanwhile (wrk), the
event loop's delay as a client sees it, next to the same with nothing
streaming.
It runs last: its feed keeps streaming once it starts.
vector-query fills a fresh Vectorize index with VECTOR_SIZES (10000
100000) random vectors of VECTOR_DIMS (1536) dimensions, a transaction of
1,000 at a time (vectors/s), then times VECTOR_QUERIES (20) top-10
queries, of all the vectors and with a metadata filter that 1 in 10
passes (p50, p99), through the store the module and the CLI use
(build/tools/vector-bench, scripts/bench/vector_bench.c).
The MCP endpoints (mcp-tools-list, mcp-get-session-info, get-quotes-hit,
get-quotes-miss) are JSON-RPC POSTs to /mcp in one session that curl
opens first, with a token from "build/ttai token"; mcp-tools-list-2026
is tools/list in the stateless revision, with its headers and _meta and
no session; mcp-tools-list-trading is the same where trading is on and
the user allowed it (the permission read from KV on each request, from
D1 every 5 s), its answer with the eight trading tools; the get_quotes ones
call the mock TastyTrade API of conf/mock/, served by the same nginx,
through the worker service.

With --callgrind, nginx runs one worker under valgrind's callgrind
instead, and each endpoint gets N requests (default 2000) from curl on
one keep-alive connection: the table has the instructions nginx ran per
request, the same from one run to the next however busy the machine
is, and the ratio of its baseline's count to that count.  They are the
instructions of nginx's process only: the kernel's part of a request
(TCP on loopback), most of what a small answer costs, is not in them,
so these ratios are lower than wrk's and no target is judged on them.
The endpoints whose wrk script makes each request differ (kv-put, d1-*,
get-quotes-miss) are left out.

This is a benchmark: it prints figures and asserts nothing.  The targets
are judged on the ratio column: health >= 0.95, mcp-tools-list,
mcp-tools-list-2026 and mcp-tools-list-trading >= 0.7, get-quotes-hit
>= 0.6; get-quotes-miss is judged on p50 and p99.
USAGE
}

duration=2
rounds=3
connections=32
threads=2
callgrind=
requests=2000
journal=on
only=()

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --duration) duration=$2; shift ;;
        --rounds) rounds=$2; shift ;;
        --connections) connections=$2; shift ;;
        --threads) threads=$2; shift ;;
        --callgrind) callgrind=1 ;;
        --requests) requests=$2; shift ;;
        --journal)
            case "${2:-}" in
                on|off) journal=$2 ;;
                *) echo "bench.sh: --journal is on or off" >&2; exit 2 ;;
            esac
            shift ;;
        -*) echo "bench.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
        *) only+=("$1") ;;
    esac
    shift
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

scripts/bootstrap >/dev/null
make --no-print-directory -s all bench-tools

dir=$root/build/bench
rm -rf "$dir"
mkdir -p "$dir/state" "$dir/logs"

port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 1)->sockport')
gen() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
printf 'JWT_SECRET=%s\nTOKEN_ENCRYPTION_KEY=%s\n' "$(gen)" "$(gen)" \
    > "$dir/bench.env"
chmod 600 "$dir/bench.env"

user=
[ "$(id -u)" -ne 0 ] || user="user root;"

# callgrind follows one process: the worker is nginx itself
workers="worker_processes 2;"
[ -z "$callgrind" ] || workers="worker_processes 1; master_process off;"

# the snapshots are in the state folder, and taken at exit only: what is
# measured is the journal's cost, or its absence
kv_conf="ttai_kv_zone bench 64m snapshot_interval=1h journal=$journal;"
mcp_conf="ttai_mcp_sessions SESSIONS 8m snapshot_interval=1h journal=$journal;
    ttai_mcp_listen_per_user 0;"
d1_main="thread_pool ttai threads=4 max_queue=4096;"
d1_conf="ttai_thread_pool ttai; ttai_migrations $root/migrations;
    ttai_oauth_revoked_zone revoked 1m;
    ttai_queue bench max_batch_size=100 max_batch_timeout=20ms consumer=echo;
    ttai_workflows on;
    ttai_monitor on; ttai_monitor_interval 1h;"

# TastyTrade: the mock of conf/mock/ in this nginx, on a port of its own;
# a quote lives for the whole run so that the cache-hit figure is all
# hits, and the rate limit is out of the way of one benchmarking user
mock_port=$(perl -MIO::Socket::INET -e \
    'print IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 1)->sockport')
tt_conf="ttai_tastytrade mock;
    upstream ttai_tastytrade { server 127.0.0.1:$mock_port; keepalive 32; }
    upstream ttai_worker { server 127.0.0.1:PORT; keepalive 32; }
    ttai_tastytrade_zone tastytrade 4m;
    ttai_tastytrade_rate 1000000r/s burst=1000000;
    ttai_cache_ttl quote=1h;
    js_path $root/conf;
    js_var \$tastytrade_mock_fixtures $root/conf/mock/fixtures;"

tt_conf=${tt_conf//PORT/$port}

# the market-data stream, only when dxlink-feed runs: from the DXLink
# mock, on a port of its own, with the benchmarking user's token
dx_conf=
dx_port=
if [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" dxlink-feed "* ]]; then
    dx_port=$(perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(LocalAddr => "127.0.0.1:0", Listen => 1)->sockport')
    dx_conf="ttai_dxlink on; ttai_dxlink_user bench-user;
    js_var \$tastytrade_mock_dxlink_url ws://127.0.0.1:$dx_port/realtime;"
fi

cat > "$dir/nginx.conf" <<CONF
load_module $root/build/nginx/ngx_http_ttai_module.so;
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
$user
$workers
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
$d1_main
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/body;
    ttai_environment development;
    ttai_env_file $dir/bench.env;
    ttai_state_dir $dir/state;
    $kv_conf
    $mcp_conf
    $d1_conf
    $tt_conf
    $dx_conf
    server {
        listen 127.0.0.1:$port backlog=4096;
        location = /baseline { return 200 "ok\n"; }
        location /static/ {
            root $dir;
            types { }
            default_type application/json;
            open_file_cache max=16;
            open_file_cache_valid 1h;
        }
        location = /health { ttai_health; }
        location /_ttai/ { ttai_admin; }
        location /debug/ { ttai_debug; }
        location = /mcp { ttai_mcp; }
        location = /fx/mcp { ttai_mcp; ttai_mcp_fixtures conformance; }
        location = /trade/mcp { ttai_mcp; ttai_trading on; }
        location /quotes { ttai_worker; }
        location /_worker/ {
            internal;
            proxy_pass http://ttai_worker\$ttai_upstream_uri;
            proxy_pass_request_headers off;
            proxy_set_header Authorization \$http_authorization;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }
        include $root/conf/tastytrade/location.conf;
    }
    server {
        listen 127.0.0.1:$mock_port backlog=4096;
        include $root/conf/mock/routes.conf;
    }
}
CONF

# the set of revoked access tokens that /mcp checks each token against
# holds 2000 revocations, which nginx reads from the database as it starts
build/ttai d1 migrations apply --db "$dir/state/d1/ttai/db.sqlite" \
    --migrations "$root/migrations" > /dev/null
build/ttai d1 execute --db "$dir/state/d1/ttai/db.sqlite" \
    --file scripts/bench/revoked-setup.sql > /dev/null

if [ -n "$callgrind" ]; then
    valgrind --tool=callgrind --callgrind-out-file="$dir/callgrind.%p" \
        nginx -p "$dir/" -c "$dir/nginx.conf" 2> "$dir/logs/valgrind.log" &
else
    nginx -p "$dir/" -c "$dir/nginx.conf" &
fi
nginx_pid=$!
trap 'kill -QUIT $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null || true' EXIT

for i in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$port/baseline" && break
    sleep 0.1
done

# wrk's latency figures in microseconds
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "ms") n *= 1000; else if (u == "s") n *= 1000000
        printf "%.0f", n }'
}

# the CPU time of nginx's workers so far, in clock ticks
ticks=$(getconf CLK_TCK)
cpu_ticks() {
    local pid t=0 n
    for pid in $(ps -o pid= --ppid "$nginx_pid"); do
        n=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || n=0
        t=$((t + ${n:-0}))
    done
    echo "$t"
}

declare -A rps_of
declare -A target_of=([health]=0.95 [mcp-tools-list]=0.7
                      [mcp-tools-list-2026]=0.7 [mcp-tools-list-trading]=0.7
                      [get-quotes-hit]=0.6)

if [ -n "$callgrind" ]; then
    printf '%-22s %12s %6s  %s\n' endpoint instructions ratio baseline
else
    printf '%-22s %11s %8s %8s %7s %6s  %-22s %s\n' endpoint requests/s \
        p50_us p99_us cpu_us ratio baseline target
fi

# whether NAME is to run: every endpoint when none was named, and the
# baselines of those that run
wanted() {
    [ ${#only[@]} -eq 0 ] || [ "$1" = baseline ] && return 0
    case " ${only[*]} " in *" $1 "*) return 0 ;; esac
    case "$1" in
        static-tools-list) wanted mcp-tools-list ;;
        static-tools-list-2026) wanted mcp-tools-list-2026 ;;
        static-tools-trading) wanted mcp-tools-list-trading ;;
        static-get-quotes-hit) wanted get-quotes-hit ;;
        *) return 1 ;;
    esac
}

# the instructions nginx runs per request of NAME, under callgrind: BODY
# makes them MCP POSTs, else they are GETs
instructions() {
    local name=$1 path=$2 body=$3 file total
    local urls=()
    for ((i = 0; i < requests; i++)); do
        urls+=("http://127.0.0.1:$port$path")
    done
    callgrind_control -z "$nginx_pid" > /dev/null 2>&1
    if [ -n "$body" ]; then
        mcp_post --data "$body" "${urls[@]}" > /dev/null
    else
        curl -s "${urls[@]}" > /dev/null
    fi
    callgrind_control -d "$name" "$nginx_pid" > /dev/null 2>&1
    file=$(ls -t "$dir"/callgrind.* | head -n 1)
    total=$(awk '/^(summary|totals):/ { print $2; exit }' "$file")
    echo $((total / requests))
}

# what the slices of one row added up to
declare -A req secs ticks_of p50s p99s path_of script_of
acc_reset() {
    req[$1]=0
    secs[$1]=0
    ticks_of[$1]=0
    p50s[$1]=
    p99s[$1]=
}

median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
        END { print NR ? v[int((NR + 1) / 2)] : 0 }'
}

# one wrk run of PATH (with SCRIPT) for the duration, added to ACC
slice() {
    local acc=$1 path=$2 script=$3 out n t t0 t1
    local args=(-t "$threads" -c "$connections" -d "${duration}s" --latency)
    [ -z "$script" ] || args+=(-s "$script")
    t0=$(cpu_ticks)
    out=$(wrk "${args[@]}" "http://127.0.0.1:$port$path")
    t1=$(cpu_ticks)
    n=$(printf '%s\n' "$out" | awk '/requests in/ { print $1 }')
    t=$(printf '%s\n' "$out" | awk '/requests in/ { print $4 + 0 }')
    if printf '%s\n' "$out" | grep -q 'Non-2xx'; then
        echo "bench.sh: ${acc%@base} answered errors:" >&2
        printf '%s\n' "$out" | grep 'Non-2xx' >&2
    fi
    req[$acc]=$((${req[$acc]} + ${n:-0}))
    secs[$acc]=$(awk -v a="${secs[$acc]}" -v b="${t:-0}" \
                 'BEGIN { print a + b }')
    ticks_of[$acc]=$((${ticks_of[$acc]} + t1 - t0))
    p50s[$acc]+=" $(to_us "$(printf '%s\n' "$out" \
                              | awk '$1 == "50%" { print $2 }')")"
    p99s[$acc]+=" $(to_us "$(printf '%s\n' "$out" \
                              | awk '$1 == "99%" { print $2 }')")"
}

# run NAME PATH [SCRIPT [BASELINE [BODY]]]: BASELINE is "baseline" when not
# named, and "-" for a baseline itself; BODY is the MCP request the
# script sends, for --callgrind.  A row is ROUNDS slices of the duration;
# with a baseline, a slice of it goes before each, and the ratio is that
# of their requests per second over those slices, so that a change of
# load on the machine weighs on both alike.
run() {
    local name=$1 path=$2 script=${3:-} base=${4:-baseline} body=${5:-}
    local rps p50 p99 n cpu ratio target round
    wanted "$name" || return 0
    if [ -n "$callgrind" ]; then
        [ -z "$script" ] || [ -n "$body" ] || return 0
        n=$(instructions "$name" "$path" "$body")
        rps_of[$name]=$n
        ratio=-
        if [ "$base" != - ] && [ -n "${rps_of[$base]:-}" ]; then
            ratio=$(awk -v a="$n" -v b="${rps_of[$base]}" \
                    'BEGIN { printf "%.2f", b / a }')
        fi
        printf '%-22s %12s %6s  %s\n' "$name" "$n" "$ratio" "$base"
        return 0
    fi
    # the rounds: the baseline's slice, then this one's, each time
    acc_reset "$name"
    acc_reset "$name@base"
    for ((round = 0; round < rounds; round++)); do
        if [ "$base" != - ]; then
            slice "$name@base" "${path_of[$base]}" "${script_of[$base]}"
        fi
        slice "$name" "$path" "$script"
    done
    path_of[$name]=$path
    script_of[$name]=$script
    rps=$(awk -v n="${req[$name]}" -v t="${secs[$name]}" \
          'BEGIN { printf "%.0f", t ? n / t : 0 }')
    cpu=$(awk -v t="${ticks_of[$name]}" -v hz="$ticks" -v n="${req[$name]}" \
          'BEGIN { printf "%.1f", n ? t * 1000000 / hz / n : 0 }')
    p50=$(median ${p50s[$name]})
    p99=$(median ${p99s[$name]})
    ratio=-
    if [ "$base" != - ]; then
        ratio=$(awk -v a="${req[$name]}" -v ta="${secs[$name]}" \
                    -v b="${req[$name@base]}" -v tb="${secs[$name@base]}" \
                'BEGIN { printf "%.2f", (a / ta) / (b / tb) }')
    fi
    target=${target_of[$name]:-}
    [ -z "$target" ] || target=">= $target"
    printf '%-22s %11s %8s %8s %7s %6s  %-22s %s\n' "$name" "$rps" "$p50" \
        "$p99" "$cpu" "$ratio" "$base" "$target"
}

lua=$dir/lua
mkdir -p "$lua"

run baseline /baseline "" -
run health /health

# KV through the admin API: a read of one key, writes over 10000 keys
{
    curl -s -o /dev/null -X PUT --data-binary '{"symbol":"AAPL","price":150.00}' \
        "http://127.0.0.1:$port/_ttai/kv/values/quote%3AAAPL"
    cat > "$lua/kv-put.lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"symbol":"AAPL","price":150.00,"bid":149.95,"ask":150.05}'
local n = 0
request = function()
    n = n + 1
    return wrk.format(nil, "/_ttai/kv/values/bench%3A" .. (n % 10000))
end
LUA
    run kv-get /_ttai/kv/values/quote%3AAAPL
    run kv-put / "$lua/kv-put.lua"
}

# SQLite point reads and writes on the thread pool, through the admin API
{
    # the 1000-row table that the d1 scripts read and update
    build/ttai d1 execute --db "$dir/state/d1/ttai/db.sqlite" \
        --file scripts/bench/d1-setup.sql > /dev/null
    for s in scripts/bench/d1-*.lua; do
        [ -f "$s" ] || continue
        name=$(basename "$s" .lua)
        run "$name" /_ttai/d1/query "$s"
    done
}

# MCP over Streamable HTTP: one session made with curl (initialize, then
# notifications/initialized), then JSON-RPC requests in it with the
# Bearer token, as a client sends them
mcp_post() {
    curl -s -X POST -H "Authorization: Bearer $MCP_TOKEN" \
        -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        ${MCP_SESSION:+-H "Mcp-Session-Id: $MCP_SESSION"} \
        ${MCP_SESSION:+-H "MCP-Protocol-Version: $MCP_PROTOCOL_VERSION"} \
        "$@" "http://127.0.0.1:$port/mcp"
}
# the same in the stateless revision: its headers, and no session
# mcp_post_2026 METHOD [curl options] [--url-path PATH (default /mcp)]
mcp_post_2026() {
    local method=$1 path=/mcp args=()
    shift
    while [ $# -gt 0 ]; do
        case "$1" in
        --url-path) path=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
        esac
    done
    curl -s -X POST -H "Authorization: Bearer $MCP_TOKEN" \
        -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' \
        -H 'MCP-Protocol-Version: 2026-07-28' -H "Mcp-Method: $method" \
        "${args[@]}" "http://127.0.0.1:$port$path"
}
mcp_setup() {
    export MCP_TOKEN MCP_SESSION= MCP_PROTOCOL_VERSION=2025-11-25
    if ! MCP_TOKEN=$(build/ttai token --env-file "$dir/bench.env" \
                     --sub bench-user --ttl 1h); then
        echo "bench.sh: ttai token failed; skipping the MCP endpoints" >&2
        return 1
    fi
    mcp_post -D "$dir/mcp-init.headers" -o "$dir/mcp-init.json" \
        --data '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$MCP_PROTOCOL_VERSION"'","capabilities":{},"clientInfo":{"name":"bench.sh","version":"1"}}}'
    MCP_SESSION=$(tr -d '\r' < "$dir/mcp-init.headers" \
                  | awk 'tolower($1) == "mcp-session-id:" { print $2 }')
    if [ -z "$MCP_SESSION" ]; then
        echo "bench.sh: initialize gave no Mcp-Session-Id; skipping the MCP endpoints:" >&2
        head -n 1 "$dir/mcp-init.headers" >&2
        cat "$dir/mcp-init.json" >&2; echo >&2
        return 1
    fi
    mcp_post -o /dev/null \
        --data '{"jsonrpc":"2.0","method":"notifications/initialized"}'
}
# one request like the script's before wrk: a JSON-RPC error would still
# be a 200 to wrk
mcp_run() {
    local name=$1 script=$2 body=$3 base=${4:-baseline} answer
    wanted "$name" || return 0
    answer=$(mcp_post --data "$body")
    case "$answer" in
        *'"result"'*) ;;
        *) echo "bench.sh: $name does not answer a result: $answer" >&2 ;;
    esac
    run "$name" /mcp "$script" "$base" "$body"
}
# an equal-payload baseline: the answer to body, as ttai gives it now,
# in a file that the /static/ location serves
static_run() {
    local name=$1 body=$2
    wanted "$name" || return 0
    mkdir -p "$dir/static"
    mcp_post --data "$body" -o "$dir/static/$name.json"
    run "$name" "/static/$name.json" "" -
}
tools_list='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
quotes_hit='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_quotes","arguments":{"symbols":["AAPL"]}}}'
quotes_miss='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_quotes","arguments":{"symbols":["MSFT"]}}}'
tools_list_2026='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bench.sh","version":"1"}}}}'
if { wanted mcp-tools-list || wanted mcp-tools-list-2026 \
     || wanted mcp-tools-list-trading \
     || wanted mcp-get-session-info || wanted listen-fanout \
     || wanted get-quotes-hit || wanted get-quotes-miss; } && mcp_setup; then
    static_run static-tools-list "$tools_list"
    mcp_run mcp-tools-list scripts/bench/mcp-tools-list.lua "$tools_list" \
        static-tools-list
    # (callgrind's curl sends the session's headers only)
    if wanted mcp-tools-list-2026 && [ -z "$callgrind" ]; then
        mkdir -p "$dir/static"
        mcp_post_2026 tools/list --data "$tools_list_2026" \
            -o "$dir/static/static-tools-list-2026.json"
        case "$(cat "$dir/static/static-tools-list-2026.json")" in
            *'"resultType":"complete"'*) ;;
            *) echo "bench.sh: mcp-tools-list-2026 does not answer a" \
                    "result" >&2 ;;
        esac
        run static-tools-list-2026 /static/static-tools-list-2026.json "" -
        run mcp-tools-list-2026 /mcp scripts/bench/mcp-tools-list-2026.lua \
            static-tools-list-2026 "$tools_list_2026"
    fi
    mcp_run mcp-get-session-info scripts/bench/mcp-get-session-info.lua \
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_session_info","arguments":{}}}'

    # the user's TastyTrade grant, for the mock; the first call below
    # refreshes it and puts quote:AAPL in KV, so that the answer captured
    # next is one from the cache
    TTAI_BENCH_REFRESH=$(scripts/mock-grant --sub bench-user) \
        build/ttai tastytrade connect --user bench-user \
        --refresh-token-env TTAI_BENCH_REFRESH \
        --db "$dir/state/d1/ttai/db.sqlite" --env-file "$dir/bench.env" \
        > /dev/null
    # where trading is on and the user allowed it: the permission is read
    # from KV on each request, from D1 every few seconds
    if wanted mcp-tools-list-trading && [ -z "$callgrind" ]; then
        build/ttai users trading enable bench-user \
            --db "$dir/state/d1/ttai/db.sqlite" > /dev/null
        mkdir -p "$dir/static"
        mcp_post_2026 tools/list --data "$tools_list_2026" \
            -o "$dir/static/static-tools-trading.json" \
            --url-path /trade/mcp
        case "$(cat "$dir/static/static-tools-trading.json")" in
            *'"place_order"'*) ;;
            *) echo "bench.sh: mcp-tools-list-trading lists no trading" \
                    "tool" >&2 ;;
        esac
        run static-tools-trading \
            /static/static-tools-trading.json "" -
        run mcp-tools-list-trading /trade/mcp \
            scripts/bench/mcp-tools-list-2026.lua static-tools-trading \
            "$tools_list_2026"
    fi
    if wanted get-quotes-hit; then
        mcp_post --data "$quotes_hit" -o /dev/null
    fi
    static_run static-get-quotes-hit "$quotes_hit"
    mcp_run get-quotes-hit scripts/bench/mcp-get-quotes-hit.lua \
        "$quotes_hit" static-get-quotes-hit
    [ -n "$callgrind" ] || mcp_run get-quotes-miss \
        scripts/bench/mcp-get-quotes-miss.lua "$quotes_miss"
fi

# the workflow "demo", WORKFLOWS instances (default 1000) made due at
# once in one transaction: each runs 4 steps and a 1 ms nap, in 2 turns;
# steps/s and turns/s until the last is complete, one worker running them
if wanted workflow-steps && [ -z "$callgrind" ]; then
    wn=${WORKFLOWS:-1000}
    qdb="$dir/state/d1/ttai/db.sqlite"
    seq 1 "$wn" | awk 'BEGIN { print "BEGIN;" } {
        printf "INSERT INTO workflow_instances (id, workflow, status, " \
               "params, wake_at, created_at, updated_at) VALUES " \
               "(\x27bench-%d\x27, \x27demo\x27, \x27queued\x27, " \
               "\x27{\"sleep_ms\":1}\x27, 0, 0, 0);\n", $1 }
        END { print "COMMIT;" }' > "$dir/workflows.sql"
    t0=$(date +%s%N)
    sqlite3 "$qdb" < "$dir/workflows.sql"
    until [ "$(sqlite3 "$qdb" "SELECT count(*) FROM workflow_instances \
                WHERE id LIKE 'bench-%' AND status = 'complete'")" \
            -ge "$wn" ]; do
        sleep 0.05
    done
    t1=$(date +%s%N)
    steps=$(sqlite3 "$qdb" "SELECT count(*) FROM workflow_steps \
                WHERE instance_id LIKE 'bench-%'")
    awk -v n="$wn" -v s="$steps" -v a="$t0" -v b="$t1" 'BEGIN {
        t = (b - a) / 1e9
        printf "workflow-steps: %d instances, %d steps in %.2f s: " \
               "%.0f steps/s, %.0f instances/s (2 turns each)\n",
               n, s, t, s / t, n / t }'
fi

# the PORTFOLIO_MONITOR: MONITOR_USERS (default 1000) users with 5 rules
# each (price_cross and day_move on 20 symbols, whose quotes bench-user
# puts in KV first, for the run), all made due at once; the pass's time
# and the event-loop delay the worker's own probe measured meanwhile
if wanted monitor-pass && [ -z "$callgrind" ]; then
    mn=${MONITOR_USERS:-1000}
    qdb="$dir/state/d1/ttai/db.sqlite"
    syms="AAPL MSFT SPY QQQ NVDA TSLA AMZN META IWM GOOGL AMD NFLX DIA XLF
          XLE GLD SLV TLT JPM BAC"
    if [ -z "${MCP_TOKEN:-}" ]; then
        MCP_TOKEN=$(build/ttai token --env-file "$dir/bench.env" \
                    --sub bench-user --ttl 1h)
    fi
    TTAI_BENCH_REFRESH=$(scripts/mock-grant --sub bench-user) \
        build/ttai tastytrade connect --user bench-user \
        --refresh-token-env TTAI_BENCH_REFRESH --db "$qdb" \
        --env-file "$dir/bench.env" > /dev/null
    list=$(printf '"%s",' $syms)
    MCP_SESSION= mcp_post -o /dev/null --data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_quotes","arguments":{"symbols":['"${list%,}"']}}}'
    echo "$syms" | tr -s ' \n' '\n' | grep . > "$dir/monitor-symbols.txt"
    awk -v n="$mn" 'NR == FNR { s[c++] = $1; next } END {
        print "BEGIN;"
        for (u = 1; u <= n; u++) {
            for (k = 0; k < 5; k++) {
                sym = s[(u * 5 + k) % c]
                if (k % 2) {
                    kind = "day_move"
                    p = "{\"percent\":" (2 + k) ",\"symbol\":\"" sym "\"}"
                } else {
                    kind = "price_cross"
                    p = "{\"direction\":\"above\",\"level\":" (100 * k + u) \
                        ",\"symbol\":\"" sym "\"}"
                }
                printf "INSERT INTO alert_rules (id, user_id, kind, params, " \
                       "created_at) VALUES (\x27bench-%d-%d\x27, " \
                       "\x27bench-mon-%d\x27, \x27%s\x27, \x27%s\x27, 0);\n",
                       u, k, u, kind, p
            }
            printf "INSERT INTO monitor_users (user_id, next_at) VALUES " \
                   "(\x27bench-mon-%d\x27, 9000000000000000);\n", u
        }
        print "COMMIT;" }' "$dir/monitor-symbols.txt" /dev/null \
        > "$dir/monitor.sql"
    sqlite3 "$qdb" < "$dir/monitor.sql"
    # what the machine itself does to a timer, with no pass running: a
    # process of its own sleeping 1 ms at a time for 2 s
    perl -MTime::HiRes=time,sleep -e '
        my @l; my $end = time + 2;
        while (time < $end) {
            my $due = time + 0.001; sleep 0.001;
            my $late = (time - $due) * 1e6; push @l, $late < 0 ? 0 : $late;
        }
        @l = sort { $a <=> $b } @l;
        printf "monitor-pass (the machine alone): a 1 ms sleep is late by " .
               "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples)\n",
               $l[@l / 2] / 1e3, $l[int(@l * 0.99)] / 1e3, $l[-1] / 1e3,
               scalar @l'
    # a pass with nothing else running, then one while wrk keeps /health
    # busy on both workers; each pass's figures are written when it ends
    for load in idle health; do
        before=$(curl -s "http://127.0.0.1:$port/debug/do/PORTFOLIO_MONITOR" \
                 | sed -n 's/.*"passes":\([0-9]*\).*/\1/p')
        wrk_pid=
        if [ "$load" = health ]; then
            wrk -t1 -c4 -d600s --latency "http://127.0.0.1:$port/health" \
                > "$dir/monitor-health.txt" 2>&1 &
            wrk_pid=$!
            sleep 1
        fi
        sqlite3 "$qdb" "UPDATE monitor_users SET next_at = 0 \
                        WHERE user_id LIKE 'bench-mon-%'"
        for i in $(seq 1 600); do
            sleep 0.25
            state=$(curl -s "http://127.0.0.1:$port/debug/do/PORTFOLIO_MONITOR")
            now=$(echo "$state" | sed -n 's/.*"passes":\([0-9]*\).*/\1/p')
            [ "${now:-0}" -gt "${before:-0}" ] && break
        done
        p99=-
        if [ -n "$wrk_pid" ]; then
            kill -INT "$wrk_pid" 2>/dev/null
            wait "$wrk_pid" 2>/dev/null
            p99=$(sed -n 's/^ *99% *//p' "$dir/monitor-health.txt")
        fi
        echo "$state" | perl -MJSON::PP -e '
            my $p = decode_json(join "", <STDIN>)->{monitor}{last_pass};
            printf "monitor-pass (%s): %d users, %d rules, %d tool calls " .
                   "in %.3f s (%.0f users/s); event-loop delay meanwhile: " .
                   "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples of a " .
                   "1 ms timer); the monitor\x27s longest turn: %.2f ms of " .
                   "CPU; /health p99 %s\n",
                   $ARGV[0], $p->{users}, $p->{rules}, $p->{tool_calls},
                   $p->{duration_us} / 1e6,
                   $p->{users} / ($p->{duration_us} / 1e6 || 1),
                   $p->{loop_lag_p50_us} / 1e3, $p->{loop_lag_p99_us} / 1e3,
                   $p->{loop_lag_max_us} / 1e3, $p->{loop_lag_samples},
                   $p->{longest_turn_cpu_us} / 1e3, $ARGV[1]' "$load" "$p99"
    done
fi

# subscriptions/listen: LISTEN_STREAMS open streams (default 1000) on the
# two workers, one change fanned out to all of them, 5 times: delivery
# latency and the memory of an idle stream (not a wrk figure)
if wanted listen-fanout && [ -z "$callgrind" ] && [ -n "${MCP_TOKEN:-}" ]; then
    ulimit -n 8192 2>/dev/null || true
    fanout=$(node scripts/bench/listen-fanout.mjs \
        --url "http://127.0.0.1:$port/fx/mcp" --token "$MCP_TOKEN" \
        --streams "${LISTEN_STREAMS:-1000}" --rounds 5 \
        --pids "$(ps -o pid= --ppid "$nginx_pid" | tr '\n' ' ')")
    echo "listen-fanout: $fanout"
fi

# the queue "bench" (echo consumer, batches of 100): QUEUE_MESSAGES
# (default 20000) sent in one transaction by the CLI, then consumed by
# the worker that holds the lease; messages/s each way, and /health's
# p99 meanwhile, the event loop's delay as a client sees it
if wanted queue-throughput && [ -z "$callgrind" ]; then
    qn=${QUEUE_MESSAGES:-20000}
    qdb="$dir/state/d1/ttai/db.sqlite"
    t0=$(date +%s%N)
    seq 1 "$qn" | sed 's/.*/{"n":&}/' \
        | build/ttai queues send bench - --lines --db "$qdb" > /dev/null
    t1=$(date +%s%N)
    wrk -t1 -c4 -d600s --latency "http://127.0.0.1:$port/health" \
        > "$dir/queue-health.txt" 2>&1 &
    wrk_pid=$!
    until [ "$(sqlite3 "$qdb" "SELECT count(*) FROM queue_acks \
                WHERE queue = 'bench'")" -ge "$qn" ]; do
        sleep 0.05
    done
    t2=$(date +%s%N)
    kill -INT "$wrk_pid" 2>/dev/null
    wait "$wrk_pid" 2>/dev/null
    p99=$(sed -n 's/^ *99% *//p' "$dir/queue-health.txt")
    awk -v n="$qn" -v a="$t0" -v b="$t1" -v c="$t2" -v p="$p99" 'BEGIN {
        printf "queue-throughput: %d messages, produced %.0f/s (one " \
               "transaction), consumed %.0f/s (batches of 100, one " \
               "consumer); /health p99 meanwhile %s\n", n,
               n / ((b - a) / 1e9), n / ((c - b) / 1e9), p }'
fi

# the market-data stream: DXLINK_SYMBOLS (default 1000) symbols from the
# DXLink mock, 10 updates a second each; the events/s taken in, the feed
# worker's CPU, and /health's latency on both workers meanwhile
# Vectorize: the store alone, as the module's thread pool and the CLI
# run it, in a database of its own in the bench folder
if wanted vector-query && [ -z "$callgrind" ]; then
    for vn in ${VECTOR_SIZES:-10000 100000}; do
        build/tools/vector-bench --db "$dir/vector-bench.sqlite" \
            --vectors "$vn" --dims "${VECTOR_DIMS:-1536}" \
            --queries "${VECTOR_QUERIES:-20}" \
            || echo "bench.sh: vector-bench failed" >&2
    done
fi

if wanted dxlink-feed && [ -z "$callgrind" ] && [ -n "$dx_port" ]; then
    dn=${DXLINK_SYMBOLS:-1000}
    qdb="$dir/state/d1/ttai/db.sqlite"
    node conf/mock/dxlink.mjs --listen "127.0.0.1:$dx_port" \
        --api "http://127.0.0.1:$mock_port" --interval 100 --synthetic \
        > "$dir/logs/dxlink-mock.log" 2>&1 &
    dx_pid=$!
    trap 'kill $dx_pid 2>/dev/null; kill -QUIT $nginx_pid 2>/dev/null; wait $nginx_pid 2>/dev/null || true' EXIT
    MCP_TOKEN=$(build/ttai token --env-file "$dir/bench.env" \
                --sub bench-user --ttl 1h)
    TTAI_BENCH_REFRESH=$(scripts/mock-grant --sub bench-user) \
        build/ttai tastytrade connect --user bench-user \
        --refresh-token-env TTAI_BENCH_REFRESH --db "$qdb" \
        --env-file "$dir/bench.env" > /dev/null
    feed() {
        curl -s "http://127.0.0.1:$port/health" | perl -MJSON::PP -e '
            my $h = decode_json(join "", <STDIN>);
            my $d = $h->{checks}{dxlink} // {};
            print join " ", $d->{state} // "-", $d->{subscribed} // 0,
                            $d->{events} // 0,
                            $h->{checks}{background}{leader_pid} // 0,
                            $d->{longest_read_us} // 0'
    }
    for i in $(seq 1 120); do
        [ "$(feed | cut -d' ' -f1)" = ready ] && break
        sleep 0.5
    done
    # /health with the feed ready and nothing streaming, to compare with
    wrk -t2 -c8 -d10s --latency "http://127.0.0.1:$port/health" \
        > "$dir/dxlink-health-idle.txt" 2>&1
    p50_idle=$(sed -n 's/^ *50% *//p' "$dir/dxlink-health-idle.txt")
    p99_idle=$(sed -n 's/^ *99% *//p' "$dir/dxlink-health-idle.txt")
    # options of a made-up root, 50 to a call, as get_greeks takes them
    for ((c = 0; c < dn; c += 50)); do
        list=
        for ((k = c + 1; k <= c + 50 && k <= dn; k++)); do
            list+=$(printf '"BNCH  261218C%08d",' $((k * 1000)))
        done
        MCP_SESSION= mcp_post -o /dev/null --data '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_greeks","arguments":{"symbols":['"${list%,}"']}}}' &
    done
    wait_calls=$(jobs -p | grep -v "^$dx_pid$" | grep -v "^$nginx_pid$" || true)
    [ -z "$wait_calls" ] || wait $wait_calls 2>/dev/null || true
    for i in $(seq 1 60); do
        [ "$(feed | cut -d' ' -f2)" -ge "$dn" ] && break
        sleep 0.5
    done
    sleep 2
    read -r st subs ev0 leader turn <<< "$(feed)"
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$leader/stat")
    t0=$(date +%s%N)
    wrk -t2 -c8 -d10s --latency "http://127.0.0.1:$port/health" \
        > "$dir/dxlink-health.txt" 2>&1
    t1=$(date +%s%N)
    read -r st subs ev1 leader1 turn <<< "$(feed)"
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$leader/stat")
    p50=$(sed -n 's/^ *50% *//p' "$dir/dxlink-health.txt")
    p99=$(sed -n 's/^ *99% *//p' "$dir/dxlink-health.txt")
    awk -v st="$st" -v subs="$subs" -v e0="$ev0" -v e1="$ev1" \
        -v a="$t0" -v b="$t1" -v c0="$cpu0" -v c1="$cpu1" -v hz="$ticks" \
        -v p50="$p50" -v p99="$p99" -v turn="$turn" \
        -v p50i="$p50_idle" -v p99i="$p99_idle" 'BEGIN {
        s = (b - a) / 1e9
        printf "dxlink-feed: %s, %d symbols subscribed; %.0f events/s taken " \
               "in and written to KV; the feed worker at %.0f%% of a core " \
               "(its share of /health included); /health on both workers " \
               "meanwhile p50 %s, p99 %s (nothing streaming: p50 %s, p99 " \
               "%s); the longest read of the feed in the last second: " \
               "%.2f ms of CPU\n", st, subs, (e1 - e0) / s,
               100 * (c1 - c0) / hz / s, p50, p99, p50i, p99i,
               turn / 1000 }'
fi

#!/usr/bin/env bash
#
# The ttai development server: builds the module, prepares .dev.vars and
# the local state folder, runs nginx in the foreground with conf/dev.conf,
# and reloads or rebuilds when files change.  Ctrl-C stops everything it
# started.
#
set -euo pipefail

usage() {
    cat <<'USAGE'
Usage: scripts/dev.sh [options] [mcp|worker]

Starts the ttai development server:
  the MCP server      http://localhost:8787   (/mcp, /health)
  the worker service  http://localhost:8788   (/quotes/<symbol>, /health)
  the mock TastyTrade http://127.0.0.1:8789   (only without credentials)
  the DXLink mock     ws://127.0.0.1:8790     (market data, with the mock)

  mcp | worker         start only that server (default: both)
  --port N             port of the MCP server (default 8787)
  --worker-port N      port of the worker service (default 8788)
  --mock-port N        port of the mock TastyTrade API (default 8789)
  --dxlink-port N      port of the DXLink mock (default 8790)
  --no-watch           do not reload on changes
  -h, --help           show this help

Environment:
  LOG_LEVEL            debug, info, notice, warn or error (default warn);
                       also read from a LOG_LEVEL line in .dev.vars

TastyTrade (from .dev.vars, or the environment):
  no TASTYTRADE_CLIENT_SECRET   the local mock API, with realistic data
  TASTYTRADE_CLIENT_SECRET set  the sandbox, https://api.cert.tastyworks.com
  TASTYTRADE_ENV=production     production, https://api.tastyworks.com
  TASTYTRADE_ENV=mock|sandbox   that one, whatever else is set

On changes while it runs:
  conf/*, .dev.vars        nginx reload (state in memory is kept)
  C sources, config        rebuild, then restart nginx; a failed build
                           leaves the running server as it was
  cli/*                    rebuild the ttai CLI

Local state lives in .ttai/state/ (d1, kv, r2, do); deleting a folder
there resets that store.
USAGE
}

say() { printf 'dev.sh: %s\n' "$*"; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

mcp_port=8787
worker_port=8788
mock_port=8789
dxlink_port=8790
services="mcp worker"
watch=1

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --port) [ $# -ge 2 ] || die "--port needs a value"
                mcp_port=$2; shift ;;
        --port=*) mcp_port=${1#*=} ;;
        --worker-port) [ $# -ge 2 ] || die "--worker-port needs a value"
                       worker_port=$2; shift ;;
        --worker-port=*) worker_port=${1#*=} ;;
        --mock-port) [ $# -ge 2 ] || die "--mock-port needs a value"
                     mock_port=$2; shift ;;
        --mock-port=*) mock_port=${1#*=} ;;
        --dxlink-port) [ $# -ge 2 ] || die "--dxlink-port needs a value"
                       dxlink_port=$2; shift ;;
        --dxlink-port=*) dxlink_port=${1#*=} ;;
        --no-watch) watch=0 ;;
        mcp|worker) services=$1 ;;
        *) printf 'dev.sh: unknown argument "%s" (try --help)\n' "$1" >&2
           exit 2 ;;
    esac
    shift
done

for p in "$mcp_port" "$worker_port" "$mock_port" "$dxlink_port"; do
    if ! [[ "$p" =~ ^[0-9]+$ ]] || [ "$p" -lt 1 ] || [ "$p" -gt 65535 ]; then
        printf 'dev.sh: "%s" is not a port number (1-65535)\n' "$p" >&2
        exit 2
    fi
done

if [ "$services" = "mcp worker" ] && [ "$mcp_port" = "$worker_port" ]; then
    printf 'dev.sh: --port and --worker-port must differ\n' >&2
    exit 2
fi

log_level=${LOG_LEVEL:-}
if [ -z "$log_level" ] && [ -f .dev.vars ]; then
    log_level=$(sed -n 's/^[[:space:]]*LOG_LEVEL[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([a-z]*\).*/\1/p' \
                .dev.vars | tail -n 1)
fi
# a KEY=value of .dev.vars, unquoted; the environment wins, as in nginx
dev_var() {
    local v
    v=$(printenv "$1" || true)
    if [ -z "$v" ] && [ -f .dev.vars ]; then
        v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" .dev.vars \
            | tail -n 1 | sed -e 's/[[:space:]]*$//' \
                              -e "s/^\"\(.*\)\"\$/\1/" -e "s/^'\(.*\)'\$/\1/")
    fi
    printf '%s' "$v"
}

# 1: .dev.vars has an LLM provider's key, whose host is looked up
llm_online() {
    local k
    for k in ANTHROPIC_API_KEY OPENAI_API_KEY GEMINI_API_KEY GOOGLE_API_KEY \
             AWS_ACCESS_KEY_ID; do
        [ -n "$(dev_var "$k")" ] && { echo 1; return; }
    done
    echo 0
}

# which TastyTrade: the mock unless credentials say otherwise
tastytrade_env() {
    local env
    env=$(dev_var TASTYTRADE_ENV)
    case "$env" in
        mock|sandbox|production) ;;
        "") if [ -n "$(dev_var TASTYTRADE_CLIENT_SECRET)" ]; then
                env=sandbox
            else
                env=mock
            fi ;;
        *) die "TASTYTRADE_ENV must be mock, sandbox or production, not '$env'" ;;
    esac
    printf '%s' "$env"
}

case "${log_level:-warn}" in
    debug|info|notice|warn|error) log_level=${log_level:-warn} ;;
    warning) log_level=warn ;;
    *) die "LOG_LEVEL must be debug, info, notice, warn or error" ;;
esac


# -- install and build ------------------------------------------------------

scripts/bootstrap

# the DXLink mock runs on Node with the ws package (package-lock.json)
if [ "$(tastytrade_env)" = mock ]; then
    scripts/npm-setup
fi


# the port check comes before the build, so that a busy port fails fast
port_holder() {
    local line pid cmd
    line=$(ss -Hltnp "( sport = :$1 )" 2>/dev/null | head -n 1)
    [ -n "$line" ] || return 1
    pid=$(printf '%s' "$line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
    if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ]; then
        cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed 's/ *$//')
        printf 'pid %s (%s)' "$pid" "${cmd:-?}"
    else
        printf 'a process this user cannot see'
    fi
}

for s in $services; do
    if [ "$s" = mcp ]; then p=$mcp_port; else p=$worker_port; fi
    if holder=$(port_holder "$p"); then
        die "port $p is already in use by $holder; stop it, or choose another port with --port/--worker-port"
    fi
done

if [ "$(tastytrade_env)" = mock ] && holder=$(port_holder "$mock_port"); then
    die "port $mock_port, for the mock TastyTrade API, is already in use by $holder; stop it, or choose another port with --mock-port"
fi

if [ "$(tastytrade_env)" = mock ] && holder=$(port_holder "$dxlink_port"); then
    die "port $dxlink_port, for the DXLink mock, is already in use by $holder; stop it, or choose another port with --dxlink-port"
fi

# every core at once: the first build compiles the core, the module and
# the CLI, which takes minutes file by file on a busy machine
jobs=$(nproc 2>/dev/null || echo 2)

say "building"
make --no-print-directory -j"$jobs" all


# -- secrets and state ------------------------------------------------------

if [ ! -f .dev.vars ]; then
    gen() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
    (
        umask 077
        sed -e "s/^JWT_SECRET=.*/JWT_SECRET=$(gen)/" \
            -e "s/^TOKEN_ENCRYPTION_KEY=.*/TOKEN_ENCRYPTION_KEY=$(gen)/" \
            .dev.vars.example > .dev.vars
    )
    say "created .dev.vars from .dev.vars.example with a fresh JWT_SECRET and TOKEN_ENCRYPTION_KEY"
fi

# the state holds hashes and sealed tokens: the user's alone (nginx makes
# any that an older version left open private when it starts)
(
    umask 077
    mkdir -p .ttai/state/d1 .ttai/state/kv .ttai/state/r2 .ttai/state/do \
             .ttai/run .ttai/tmp
)


# -- nginx ------------------------------------------------------------------

# conf/dev.conf is used as it is, unless ports or services differ from its
# defaults; then a copy with those changes is written to .ttai/run/.
conf=conf/dev.conf

render_conf() {
    tt_env=$(tastytrade_env)

    if [ "$mcp_port" = 8787 ] && [ "$worker_port" = 8788 ] \
       && [ "$mock_port" = 8789 ] && [ "$dxlink_port" = 8790 ] \
       && [ "$services" = "mcp worker" ] \
       && [ "$tt_env" = mock ] && [ "$(llm_online)" = 0 ]; then
        conf=conf/dev.conf
        return
    fi

    # the copy lives in .ttai/run/, so its includes name conf/ by path
    conf=.ttai/run/dev.conf
    only="$services"
    [ "$tt_env" = mock ] && only="$only mock"
    # off the mock, the market-data stream's host is a name to look up, as
    # are the LLM providers' hosts
    ns=
    if [ "$tt_env" != mock ] || [ "$(llm_online)" = 1 ]; then
        ns=$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf \
             2>/dev/null || true)
    fi
    awk -v mcp="$mcp_port" -v worker="$worker_port" -v mock="$mock_port" \
        -v dxlink="$dxlink_port" -v ns="$ns" \
        -v only="$only" -v env="$tt_env" -v confdir="$root/conf" '
        /^[[:space:]]*# begin (mcp|worker|mock)/ {
            split($0, w, " "); block = w[3]; sub(/:$/, "", block)
        }
        /include tastytrade\/mock\.conf;/ && env == "mock" {
            # the mock on its port, where tastytrade/mock.conf says 8789
            print "    ttai_tastytrade mock;"
            print "    ttai_tastytrade_authorize_url http://127.0.0.1:" mock "/mock/authorize;"
            print "    upstream ttai_tastytrade {"
            print "        server 127.0.0.1:" mock ";"
            print "        keepalive 8;"
            print "    }"
            print "    js_path " confdir ";"
            print "    js_var $tastytrade_mock_fixtures " confdir "/mock/fixtures;"
            print "    js_var $tastytrade_mock_motion dev;"
            print "    js_var $tastytrade_mock_dxlink_url ws://127.0.0.1:" dxlink "/realtime;"
            print "    include " confdir "/tastytrade/mock-trading.conf;"
            next
        }
        /^[[:space:]]*ttai_dxlink on;/ && ns != "" {
            print "    resolver " ns " ipv6=off;"
        }
        {
            gsub(/127\.0\.0\.1:8787;/, "127.0.0.1:" mcp ";")
            gsub(/127\.0\.0\.1:8788;/, "127.0.0.1:" worker ";")
            gsub(/127\.0\.0\.1:8789;/, "127.0.0.1:" mock ";")
            sub(/include tastytrade\/mock\.conf;/,
                "include tastytrade/" env ".conf;")
            sub(/include tastytrade\//, "include " confdir "/tastytrade/")
            sub(/include mock\//, "include " confdir "/mock/")
            sub(/include oauth\//, "include " confdir "/oauth/")
            sub(/include monitor\//, "include " confdir "/monitor/")
            sub(/include llm\//, "include " confdir "/llm/")
            if (block == "" || index(only, block)) print
        }
        /^[[:space:]]*# end (mcp|worker|mock)/ { block = "" }
    ' conf/dev.conf > "$conf.tmp"
    mv "$conf.tmp" "$conf"
}

say_tastytrade() {
    case "$(tastytrade_env)" in
        mock) say "TastyTrade: the local mock API on http://127.0.0.1:$mock_port (no TASTYTRADE_CLIENT_SECRET in .dev.vars)" ;;
        sandbox) say "TastyTrade: the sandbox, https://api.cert.tastyworks.com" ;;
        production) say "TastyTrade: PRODUCTION, https://api.tastyworks.com (real accounts)" ;;
    esac
}

# As root (containers, CI) the workers would drop to "nobody" and lose
# access to the work tree; in development they run as the caller.
globals="error_log stderr $log_level;"
if [ "$(id -u)" -eq 0 ]; then
    globals="$globals user root;"
fi

nginx_cmd() {
    nginx -p "$root/" -c "$conf" -g "$globals" "$@"
}

nginx_pid=
watch_pid=
dxlink_pid=

# the DXLink mock: market data for the mock API's quote tokens; its values
# come from the mock API itself, so it needs nothing restarted on reload
start_dxlink() {
    [ "$(tastytrade_env)" = mock ] || return 0
    stop_asked=
    trap 'stop_asked=1' INT TERM
    (trap '' INT; exec node conf/mock/dxlink.mjs \
        --listen "127.0.0.1:$dxlink_port" \
        --api "http://127.0.0.1:$mock_port") &
    dxlink_pid=$!
    trap on_signal INT TERM
    [ -z "$stop_asked" ] || on_signal
    say "DXLink: the mock on ws://127.0.0.1:$dxlink_port/realtime"
}

stop_dxlink() {
    [ -n "$dxlink_pid" ] || return 0
    kill "$dxlink_pid" 2>/dev/null || true
    wait "$dxlink_pid" 2>/dev/null || true
    dxlink_pid=
}

start_nginx() {
    render_conf
    # Ctrl-C between the fork and the assignment would leave a server
    # nobody stops: it is held until nginx_pid names the new one
    stop_asked=
    trap 'stop_asked=1' INT TERM
    # not through nginx_cmd: $! must be nginx itself, not a subshell
    nginx -p "$root/" -c "$conf" -g "$globals" &
    nginx_pid=$!
    trap on_signal INT TERM
    [ -z "$stop_asked" ] || on_signal
}

stop_nginx() {
    local i
    [ -n "$nginx_pid" ] || return 0
    if kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$nginx_pid" 2>/dev/null; then
            kill -TERM "$nginx_pid" 2>/dev/null || true
        fi
    fi
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
}

# waits for every started server to answer /health; 0 when all do
wait_ready() {
    local s p i
    for s in $services; do
        if [ "$s" = mcp ]; then p=$mcp_port; else p=$worker_port; fi
        for i in $(seq 1 100); do
            if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/health"
            then
                break
            fi
            kill -0 "$nginx_pid" 2>/dev/null || return 1
            sleep 0.1
        done
        [ "$i" -lt 100 ] || return 1
    done
}

print_ready() {
    local s
    for s in $services; do
        if [ "$s" = mcp ]; then
            echo "Ready on http://localhost:$mcp_port"
        else
            echo "Ready on http://localhost:$worker_port"
        fi
    done
}

cleanup() {
    trap - INT TERM EXIT
    if [ -n "$watch_pid" ]; then
        kill "$watch_pid" 2>/dev/null || true
        wait "$watch_pid" 2>/dev/null || true
    fi
    stop_nginx
    stop_dxlink
}

on_signal() {
    echo
    say "stopping"
    cleanup
    exit 0
}

trap on_signal INT TERM
trap cleanup EXIT

say "log level $log_level; state in .ttai/state"
if [ "$log_level" = debug ]; then
    say "note: at debug level nginx itself logs request headers, Authorization included (JWTs, TastyTrade tokens): keep these logs to yourself"
fi
say_tastytrade
start_dxlink
start_nginx
if ! wait_ready; then
    stop_nginx
    die "nginx did not start; see the messages above"
fi
print_ready


# -- watch ------------------------------------------------------------------

reload() {
    say "$1 changed: reloading"
    render_conf
    if ! nginx_cmd -t -q; then
        say "the new configuration has errors; the server keeps the old one"
        return
    fi
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -HUP "$nginx_pid"
    else
        restart
    fi
}

restart() {
    stop_nginx
    start_nginx
    if wait_ready; then
        say "restarted"
        print_ready
    else
        say "nginx did not start; fix the error above and save again"
    fi
}

rebuild() {
    say "$1 changed: rebuilding"
    if ! make --no-print-directory -j"$jobs" all; then
        say "build failed; the running server was left as it was"
        return
    fi
    # a reload would not load a rebuilt .so: dlopen() hands back the one
    # already in memory, so the new code needs a new master process
    restart
}

if [ "$watch" -eq 0 ]; then
    wait "$nginx_pid" || true
    exit 0
fi

# Ctrl-C reaches the whole foreground group: the watcher ignores it, or
# the loop below could find it gone before the INT trap runs, and end
# with "the file watcher stopped"; cleanup stops it
exec {watch_fd}< <(trap '' INT; exec inotifywait -m -r -q \
    -e close_write,create,delete,moved_to,moved_from \
    --exclude '(^|/)(\.git|build|\.ttai|node_modules|t)(/|$)' \
    --format '%w%f' .)
watch_pid=$!

classify() {
    case "$1" in
        ./.dev.vars) echo reload ;;
        ./conf/*.conf|./conf/*/*.conf) echo reload ;;
        ./config|./ngx_ttai_module/*.[ch]|./shared/*.[ch]) echo rebuild ;;
        ./Makefile|./scripts/gen-tools) echo rebuild ;;
        ./shared/tools/schemas/*.json) echo rebuild ;;
        ./cli/*.[ch]) echo cli ;;
        *) echo ignore ;;
    esac
}

while true; do
    if ! read -r -t 1 -u "$watch_fd" path; then
        if ! kill -0 "$watch_pid" 2>/dev/null; then
            die "the file watcher stopped"
        fi
        if [ -n "$nginx_pid" ] && ! kill -0 "$nginx_pid" 2>/dev/null; then
            wait "$nginx_pid" 2>/dev/null && rc=0 || rc=$?
            nginx_pid=
            say "nginx exited (status $rc); save a change to start it again"
        fi
        continue
    fi

    action=$(classify "$path")
    [ "$action" != ignore ] || continue
    what=${path#./}

    # an editor's save is often several events: take them as one
    while read -r -t 0.3 -u "$watch_fd" more; do
        if [ "$(classify "$more")" = rebuild ]; then
            action=rebuild
        fi
    done

    if [ "$action" = cli ]; then
        say "$what changed: rebuilding the CLI"
        make --no-print-directory -j"$jobs" cli || say "CLI build failed"
    elif [ "$action" = rebuild ]; then
        rebuild "$what"
    elif [ -z "$nginx_pid" ]; then
        restart
    else
        reload "$what"
    fi
done

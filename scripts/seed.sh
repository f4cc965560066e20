#!/usr/bin/env bash
#
# Seeds the local database with the seed design's test user,
# tt-account-123 (test@example.com), and a TastyTrade refresh token for
# it, encrypted under TOKEN_ENCRYPTION_KEY: TASTYTRADE_REFRESH_TOKEN from
# .dev.vars when it is set (a personal grant, for the sandbox), else a
# grant of the local mock API.  Everything goes through the ttai CLI;
# running it again changes nothing but the token's timestamps.
#
set -euo pipefail

case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/seed.sh

Applies pending migrations to .ttai/state/d1/ttai/db.sqlite, then stores
the test user tt-account-123 (test@example.com) and its TastyTrade
refresh token, encrypted: TASTYTRADE_REFRESH_TOKEN from .dev.vars when it
is set, else one the local mock API accepts.  The server fetches an access
token with it on the first tool call.  Needs .dev.vars (scripts/dev.sh
creates it).  Safe to run more than once, with or without the dev server
running.
USAGE
        exit 0 ;;
    "") ;;
    *) echo "seed.sh: unknown argument \"$1\" (try --help)" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if [ ! -f .dev.vars ]; then
    echo "seed.sh: no .dev.vars; run scripts/dev.sh once to create it" >&2
    exit 1
fi

make --no-print-directory -s cli

ttai=build/ttai

mkdir -p .ttai/state/d1/ttai
$ttai d1 migrations apply

# the environment wins over .dev.vars, as it does for nginx
refresh=${TASTYTRADE_REFRESH_TOKEN:-}
if [ -z "$refresh" ]; then
    refresh=$(sed -n 's/^[[:space:]]*TASTYTRADE_REFRESH_TOKEN[[:space:]]*=[[:space:]]*//p' \
              .dev.vars | tail -n 1 | sed -e 's/[[:space:]]*$//' \
                                          -e 's/^"\(.*\)"$/\1/')
fi
if [ -z "$refresh" ]; then
    refresh=$(scripts/mock-grant --sub tt-account-123)
    source="the local mock API"
else
    source="TASTYTRADE_REFRESH_TOKEN"
fi

# the refresh token never goes on a command line others could read
TTAI_REFRESH_TOKEN=$refresh $ttai tastytrade connect \
    --user tt-account-123 \
    --email test@example.com \
    --refresh-token-env TTAI_REFRESH_TOKEN

$ttai d1 execute --command \
    "SELECT id, email FROM users WHERE id = 'tt-account-123'"

echo "seed.sh: seeded tt-account-123 (test@example.com) with an encrypted TastyTrade refresh token from $source"

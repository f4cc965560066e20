#!/usr/bin/env bash
#
# Seeds the local database with the seed design's test user,
# tt-account-123 (test@example.com), and a TastyTrade token for it,
# encrypted under TOKEN_ENCRYPTION_KEY.  Everything goes through the ttai
# CLI; running it again changes nothing but the token's timestamps.
#
set -euo pipefail

case "${1:-}" in
    -h|--help)
        cat <<'USAGE'
Usage: scripts/seed.sh

Applies pending migrations to .ttai/state/d1/ttai/db.sqlite, then stores
the test user tt-account-123 (test@example.com) and an encrypted test
TastyTrade token.  Needs .dev.vars (scripts/dev.sh creates it).
Safe to run more than once, with or without the dev server running.
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

$ttai tastytrade connect \
    --user tt-account-123 \
    --email test@example.com \
    --refresh-token ttai-dev-refresh-token \
    --access-token ttai-dev-access-token \
    --expires-in 900

$ttai d1 execute --command \
    "SELECT id, email FROM users WHERE id = 'tt-account-123'"

echo "seed.sh: seeded tt-account-123 (test@example.com) with an encrypted TastyTrade token"

#!/usr/bin/env bash
# What the other examples share; each one sources it (`. "$(dirname "$0")/lib.sh"`).
# URL and KEY default to a local `npm start` in development; COMMUNITY names the community
# the examples work in (the demo's MSSP by default).
set -euo pipefail
URL="${URL:-http://localhost:4000}"
KEY="${KEY:-$(cat .data/dev-api-key)}"
COMMUNITY="${COMMUNITY:-Demo MSSP}"

# POSTs a GraphQL operation ($1, on one line, no double quotes) with its variables ($2, JSON).
gql() {
  curl -sS --fail-with-body "$URL/graphql" \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
    --data "{\"query\":\"$1\",\"variables\":${2:-null}}"
}

# Reads the first "name":"value" pair named $1 from a JSON answer on stdin.
first() { grep -o "\"$1\":\"[^\"]*\"" | sed -n 1p | cut -d'"' -f4; }

# The id of the community named $COMMUNITY (the `communities` query).
community_id() {
  gql '{ communities { id name } }' | grep -o "\"id\":\"[^\"]*\",\"name\":\"$COMMUNITY\"" | cut -d'"' -f4
}

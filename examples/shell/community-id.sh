#!/usr/bin/env bash
# Prints the id of the community named $COMMUNITY (default: the demo's "Demo MSSP"),
# for X-Community-Ids and for the communityId of mutations.
# URL and KEY default to a local `npm start` in development.
set -euo pipefail
URL="${URL:-http://localhost:4000}"
KEY="${KEY:-$(cat .data/dev-api-key)}"
COMMUNITY="${COMMUNITY:-Demo MSSP}"

answer=$(curl -sS --fail-with-body "$URL/graphql" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  --data '{"query":"{ communities { id name } }"}')
# The answer lists {"id":"…","name":"…"} objects; keep the id of the one with that name.
id=$(printf '%s' "$answer" | grep -o "\"id\":\"[^\"]*\",\"name\":\"$COMMUNITY\"" | cut -d'"' -f4 || true)
if [ -z "$id" ]; then
  echo "No community named \"$COMMUNITY\" in $answer" >&2
  exit 1
fi
echo "$id"

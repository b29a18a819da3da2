#!/usr/bin/env bash
# Sends two ECS events to one community with POST /api/events.
# URL and KEY default to a local `npm start` in development.
set -euo pipefail
URL="${URL:-http://localhost:4000}"
KEY="${KEY:-$(cat .data/dev-api-key)}"
COMMUNITY="${COMMUNITY:-Demo MSSP}"

# A key that may send to several communities (the demo's: Demo MSSP and its two
# clients) must name one in X-Community-Ids; look its id up by name.
COMMUNITY_ID=$(curl -sS --fail-with-body "$URL/graphql" \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
  --data '{"query":"{ communities { id name } }"}' |
  grep -o "\"id\":\"[^\"]*\",\"name\":\"$COMMUNITY\"" | cut -d'"' -f4)

# @timestamp is required, and must be within the retention and at most a day ahead.
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -sS --fail-with-body "$URL/api/events" \
  -H "Authorization: Bearer $KEY" -H "X-Community-Ids: $COMMUNITY_ID" \
  -H 'Content-Type: application/x-ndjson' \
  --data-binary @- <<NDJSON
{"@timestamp":"$NOW","source":{"ip":"192.0.2.10"},"destination":{"ip":"198.51.100.7"}}
{"@timestamp":"$NOW","dns.question.name":"login.example.net"}
NDJSON
echo

#!/usr/bin/env bash
# The five-minute tour from the shell: a collection with a detection rule, a text import
# followed live over SSE, an event that matches, and the alert it raised.
# URL, KEY and COMMUNITY as in lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# 1. The community's id (WhoAmI in GraphiQL).
COMMUNITY_ID=$(community_id)

# 2. A collection, with a detection rule that uses it.
answer=$(gql 'mutation($input: CreateCollectionInput!) { createCollection(input: $input) { __typename ... on CreateCollectionSuccess { collection { id } } ... on Error { code message } } }' \
  "{\"input\":{\"communityId\":\"$COMMUNITY_ID\",\"name\":\"Tour $(date -u +%H%M%S)-$$\",\"createDetectionRule\":true}}")
echo "$answer"
COLLECTION_ID=$(echo "$answer" | first id)

# 3. A text import: one observable per line, defanged or not; bad lines are reported.
#    validFrom defaults to the import's time and an indicator matches only events from
#    then on: start it at midnight so that events from earlier today match too.
answer=$(gql 'mutation($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { __typename ... on ImportSuccess { importJob { id status } } ... on Error { code message } } }' \
  "{\"input\":{\"collectionId\":\"$COLLECTION_ID\",\"text\":\"hxxps://login[.]example[.]net/reset\nlogin[.]example[.]net\n198.51.100[.]7\nnot an indicator\",\"properties\":{\"description\":\"From the tour\",\"validFrom\":\"$(date -u +%Y-%m-%dT00:00:00Z)\"}}}")
echo "$answer"
JOB_ID=$(echo "$answer" | first id)

# 4. Follow the job over SSE: its state now, then every change; the stream ends with the job.
stream=$(curl -sS --fail-with-body -N "$URL/graphql" --max-time 300 \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -H 'Accept: text/event-stream' \
  --data "{\"query\":\"subscription(\$id: ID!) { importJobUpdated(id: \$id) { status processed created invalid } }\",\"variables\":{\"id\":\"$JOB_ID\"}}")
echo "$stream"
case "$stream" in *'"status":"SUCCEEDED"'*) ;; *) echo "The import did not succeed." >&2 && exit 1 ;; esac

# 5. An event that carries one of the indicators: detection runs as the event is stored.
curl -sS --fail-with-body "$URL/api/events" \
  -H "Authorization: Bearer $KEY" -H "X-Community-Ids: $COMMUNITY_ID" \
  --data-binary "{\"@timestamp\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"dns.question.name\":\"login.example.net\"}"
echo

# 6. The alert it raised.
alerts=$(gql 'query($id: ID) { alerts(first: 10, collectionId: $id) { totalCount edges { node { value field count status } } } }' \
  "{\"id\":\"$COLLECTION_ID\"}")
echo "$alerts"
case "$alerts" in *'"value":"login.example.net"'*) ;; *) echo "No alert was raised." >&2 && exit 1 ;; esac

#!/usr/bin/env bash
# Telemetry: events mention an indicator, a report says where and when it was seen,
# and a report entry's heatmap comes as an SVG calendar.
# URL, KEY and COMMUNITY as in lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# Follows a subscription over SSE until it completes; fails unless it ended SUCCEEDED.
follow() {
  stream=$(curl -sS --fail-with-body -N "$URL/graphql" --max-time 300 \
    -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -H 'Accept: text/event-stream' \
    --data "{\"query\":\"$1\",\"variables\":$2}")
  echo "$stream"
  case "$stream" in *'"status":"SUCCEEDED"'*) ;; *) echo "It did not succeed." >&2 && return 1 ;; esac
}

COMMUNITY_ID=$(community_id)
COLLECTION_ID=$(gql 'mutation($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionSuccess { collection { id } } ... on Error { code message } } }' \
  "{\"input\":{\"communityId\":\"$COMMUNITY_ID\",\"name\":\"Telemetry $(date -u +%H%M%S)-$$\"}}" | first id)
JOB_ID=$(gql 'mutation($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ImportSuccess { importJob { id } } ... on Error { code message } } }' \
  "{\"input\":{\"collectionId\":\"$COLLECTION_ID\",\"text\":\"198.51.100.23\nupdates.example.org\"}}" | first id)
follow 'subscription($id: ID!) { importJobUpdated(id: $id) { status created } }' "{\"id\":\"$JOB_ID\"}"

# Sightings count whatever the indicators' validity (reports look at the past year).
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
curl -sS --fail-with-body "$URL/api/events" \
  -H "Authorization: Bearer $KEY" -H "X-Community-Ids: $COMMUNITY_ID" \
  --data-binary @- <<NDJSON
{"@timestamp":"$NOW","destination":{"ip":"198.51.100.23"}}
{"@timestamp":"$NOW","source":{"ip":"198.51.100.23"}}
{"@timestamp":"$NOW","dns":{"question":{"name":"updates.example.org"}}}
NDJSON
echo

# A report over the request's communities (all the key's, or those of X-Community-Ids).
REPORT_ID=$(gql 'mutation($input: GenerateTelemetryReportInput!) { generateTelemetryReport(input: $input) { ... on GenerateTelemetryReportSuccess { telemetryReport { id } } ... on Error { code message } } }' \
  "{\"input\":{\"collectionId\":\"$COLLECTION_ID\"}}" | first id)
follow 'subscription($id: ID!) { telemetryReportUpdated(id: $id) { status indicatorsSeen } }' "{\"id\":\"$REPORT_ID\"}"

report=$(gql 'query($id: ID!) { node(id: $id) { ... on TelemetryReport { entries(first: 10) { edges { node { indicator { value } sightings firstSeen lastSeen heatmapSvgUrl } } } } } }' \
  "{\"id\":\"$REPORT_ID\"}")
echo "$report"
SVG_PATH=$(echo "$report" | first heatmapSvgUrl)
SVG_FILE="${TMPDIR:-/tmp}/heatmap.svg"
curl -sS --fail-with-body "$URL$SVG_PATH" -H "Authorization: Bearer $KEY" -o "$SVG_FILE"
echo "The first entry's heatmap is in $SVG_FILE; open it in a browser."

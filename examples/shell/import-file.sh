#!/usr/bin/env bash
# A CSV file import in two steps (upload and preview, then import with the confirmed
# mapping), followed over SSE, and its rejected rows as CSV.
# URL, KEY and COMMUNITY as in lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

COMMUNITY_ID=$(community_id)
COLLECTION_ID=$(gql 'mutation($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionSuccess { collection { id } } ... on Error { code message } } }' \
  "{\"input\":{\"communityId\":\"$COMMUNITY_ID\",\"name\":\"File import $(date -u +%H%M%S)-$$\"}}" | first id)

# A feed export as it often comes: a comment line, a header, a defanged value, a bad row.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/feed.csv" <<'CSV'
# exported from a partner's portal
indicator,first_seen,comment
malware-cdn[.]example.org,2026-01-31 12:00:00,payload host
203.0.113.66,2026-02-01,scanner
not-an-ioc,2026-02-02,typo
CSV

# Step 1: upload (GraphQL multipart request) and look at the preview and suggested mapping.
preview=$(curl -sS --fail-with-body "$URL/graphql" -H "Authorization: Bearer $KEY" \
  -F operations='{"query":"mutation($input: PreviewIndicatorFileInput!) { previewIndicatorFile(input: $input) { __typename ... on PreviewIndicatorFileSuccess { preview { fileHandle format headerRowDetected columns { index header suggestedProperty } } } ... on Error { code message } } }","variables":{"input":{"collectionId":"'"$COLLECTION_ID"'","file":null}}}' \
  -F map='{"0":["variables.input.file"]}' \
  -F 0=@"$dir/feed.csv")
echo "$preview"
FILE_HANDLE=$(echo "$preview" | first fileHandle)

# Step 2: import with the mapping confirmed (one entry per column, null to ignore one).
JOB_ID=$(gql 'mutation($input: ImportIndicatorsFromFileInput!) { importIndicatorsFromFile(input: $input) { ... on ImportSuccess { importJob { id } } ... on Error { code message } } }' \
  "{\"input\":{\"collectionId\":\"$COLLECTION_ID\",\"fileHandle\":\"$FILE_HANDLE\",\"mapping\":[\"OBSERVABLE\",\"VALID_FROM\",\"DESCRIPTION\"],\"ignoreFirstLine\":true}}" |
  first id)

stream=$(curl -sS --fail-with-body -N "$URL/graphql" --max-time 300 \
  -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -H 'Accept: text/event-stream' \
  --data "{\"query\":\"subscription(\$id: ID!) { importJobUpdated(id: \$id) { status total processed created invalid } }\",\"variables\":{\"id\":\"$JOB_ID\"}}")
echo "$stream"
case "$stream" in *'"status":"SUCCEEDED"'*) ;; *) echo "The import did not succeed." >&2 && exit 1 ;; esac

# The rejected rows, with the original cells and the line, code and reason appended.
curl -sS --fail-with-body "$URL/api/imports/$JOB_ID/errors.csv" -H "Authorization: Bearer $KEY"

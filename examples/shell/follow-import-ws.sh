#!/usr/bin/env bash
# A subscription over graphql-ws (the WebSocket protocol) from Node.js: starts a text
# import, then follows it with importJobUpdated until the job has ended.
# Run from the repository's root (it uses the graphql-ws and ws packages installed there).
# URL, KEY and COMMUNITY as in lib.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

COMMUNITY_ID=$(community_id)
COLLECTION_ID=$(gql 'mutation($input: CreateCollectionInput!) { createCollection(input: $input) { ... on CreateCollectionSuccess { collection { id } } ... on Error { code message } } }' \
  "{\"input\":{\"communityId\":\"$COMMUNITY_ID\",\"name\":\"WebSocket $(date -u +%H%M%S)-$$\"}}" | first id)
JOB_ID=$(gql 'mutation($input: ImportIndicatorsFromTextInput!) { importIndicatorsFromText(input: $input) { ... on ImportSuccess { importJob { id } } ... on Error { code message } } }' \
  "{\"input\":{\"collectionId\":\"$COLLECTION_ID\",\"text\":\"evil-updates[.]example[.]com\n2001:db8::1\"}}" | first id)
export URL KEY JOB_ID

node --input-type=module <<'JS'
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: `${process.env.URL.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${process.env.KEY}` },
});
const updates = client.iterate({
  query: 'subscription ($id: ID!) { importJobUpdated(id: $id) { status processed created invalid } }',
  variables: { id: process.env.JOB_ID },
});
let last;
for await (const update of updates) {
  if (update.errors) throw new Error(JSON.stringify(update.errors));
  last = update.data.importJobUpdated;
  console.log(JSON.stringify(last));
}
await client.dispose();
if (last?.status !== 'SUCCEEDED') process.exit(1);
JS

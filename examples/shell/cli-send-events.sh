#!/usr/bin/env bash
# Sends events with the CLI instead of HTTP: no key, no header, the community by name.
# It works beside a running `npm start` (it uses that service's database), or alone.
# Run from the repository's root; it uses DATABASE_URL (or DATA_DIR) like the service.
set -euo pipefail
COMMUNITY="${COMMUNITY:-Demo MSSP}"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
cat > "$dir/events.ndjson" <<NDJSON
{"@timestamp":"$NOW","source":{"ip":"192.0.2.10"},"destination":{"ip":"198.51.100.7"}}
{"@timestamp":"$NOW","dns.question.name":"login.example.net"}
{"@timestamp":"not a time","source.ip":"192.0.2.10"}
NDJSON

npm run --silent cli -- events send --file "$dir/events.ndjson" --community "$COMMUNITY"

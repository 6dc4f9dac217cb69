#!/usr/bin/env bash
# The typed client: generate (GraphQL Code Generator validates operations.graphql against the
# 2026-01-01 reference), type-check and compile (tsc, strict), then run it against the server.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf generated dist
../node_modules/.bin/graphql-codegen --config codegen.yml --silent
grep -q "export enum CourseMembershipStatus" generated/graphql.ts
../node_modules/.bin/tsc -p tsconfig.json
echo "  ok   generated and type-checked (tsc --strict)"
node dist/main.js

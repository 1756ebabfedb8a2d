#!/usr/bin/env bash
# Bundle the playground's editor (CodeMirror 6) once: compiler/serve/static/editor.bundle.js
# is committed, so installing policyc needs no Node. Run after changing editors/web/.
set -euo pipefail
cd "$(dirname "$0")/../editors/web"
npm ci --no-audit --no-fund --loglevel=error
npx esbuild editor.entry.js --bundle --minify --format=iife --legal-comments=eof \
  --outfile=../../compiler/serve/static/editor.bundle.js

#!/usr/bin/env bash
# Build the VS Code extension package: editors/vscode/policyc.vsix.
# Needs Node.js and npm (packages from the npm registry, pinned by package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"
"${PYTHON:-../../.venv/bin/python}" ../../scripts/vscode_grammar.py --check   # the highlighting knows every keyword of the grammar
npm ci --no-audit --no-fund --loglevel=error
npm test --silent -- ../../policy/driver_info.policy ../../policy/pet_ride_fare.policy
npx vsce package --out policyc.vsix
unzip -l policyc.vsix

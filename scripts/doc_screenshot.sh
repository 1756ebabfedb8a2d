#!/usr/bin/env bash
# Render the generated manual in Debian's headless Chromium and save a screenshot, to
# look at what an agent sees. Needs: apt-get install chromium fonts-noto-cjk graphviz
#   scripts/doc_screenshot.sh [POLICY] [OUT_DIR]
set -euo pipefail
policy=${1:-policy/driver_info.policy}
out=${2:-build/doc}
name=$(basename "$policy" .policy)
policyc doc "$policy" -o "$out"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1280,3200 \
  --screenshot="$out/$name.png" "file://$(realpath "$out/$name.html")" 2>/dev/null
echo "$out/$name.png"

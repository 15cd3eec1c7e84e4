#!/usr/bin/env bash
# Repeated code in the product's C# source: copies the tracked .cs files of edge/, services/, shared/ and tools/
# (EF Core migrations left out: generated, and alike by design) to a temp folder and runs `duplicates` on it.
# The first line it prints counts the pairs (issue #18 measures with it). Extra arguments go to `duplicates`,
# e.g. `bash scripts/duplication.sh --most 60` to list more rows.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v duplicates >/dev/null || { echo "duplicates: command not found" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

git ls-files -z -- 'edge/*.cs' 'services/*.cs' 'shared/*.cs' 'tools/*.cs' \
  | grep -zv '/Migrations/' \
  | xargs -0 cp --parents -t "$dir"

duplicates --repo "$dir" --seconds 200 "$@"

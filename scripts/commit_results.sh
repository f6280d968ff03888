#!/usr/bin/env bash
# Commit the background runs' progress (results/) together with the reproduction page and its
# figures, regenerated from exactly the files being committed: the runs keep writing while this
# runs, so the page is written from a snapshot of the index, not from the working tree.
#
# Usage: scripts/commit_results.sh "message" [PATH...]   (PATH defaults to results/paper)
set -euo pipefail
cd "$(dirname "$0")/.."
message="$1"; shift
paths=("${@:-results/paper}")
if [ -n "$(git diff --cached --name-only)" ]; then
    echo "Something is staged already; commit or unstage it first." >&2; exit 1
fi
git add -- "${paths[@]}"
snapshot="$(mktemp -d)"
trap 'rm -rf "$snapshot"' EXIT
git ls-files -z -- results | xargs -0 git checkout-index --prefix="$snapshot/" --
PYTHON="${PYTHON:-.venv/bin/python}"
"$PYTHON" scripts/cifar10_report.py --results "$snapshot/results" --docs docs/reproduction.md
git add -- docs/reproduction.md docs/img/cifar10_paper_seeds.png docs/img/cifar10_dose_response.png
git commit --quiet -m "$message"
git log --oneline -1

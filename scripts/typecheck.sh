#!/usr/bin/env bash
# mypy --strict over src/moltres, then over the tests, in the core virtualenv (make lint,
# make typecheck and the pre-commit hook all run this). The integration suites that run in
# virtualenvs of their own (the dirs in requirements/test-<env>.dirs) are left out of the
# tests run: their frameworks are not installed here, so mypy would check them against Any.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
excludes=()
for list in requirements/test-*.dirs; do
  [ -e "$list" ] || continue
  for dir in $(cat "$list"); do
    case "$dir" in -*) ;; *) excludes+=(--exclude "^${dir%/}/") ;; esac  # skip pytest flags
  done
done
"$BIN/mypy"
"$BIN/mypy" tests "${excludes[@]}"

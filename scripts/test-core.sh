#!/usr/bin/env bash
# The core suite: every backend the machine offers, coverage reported and enforced.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
ignores=()
for env in $(ls requirements 2>/dev/null | sed -n 's/^test-\(.*\)\.txt$/\1/p'); do
  for dir in $(cat "requirements/test-$env.dirs"); do
    case "$dir" in -*) ;; *) ignores+=("--ignore=$dir") ;; esac  # skip pytest flags
  done
done
rm -f .coverage .coverage.*
# docstring examples run too, except those of integrations that live in their own virtualenvs
for name in airflow prefect django streamlit fastapi; do
  ignores+=("--ignore-glob=src/moltres/integrations/$name*")
done
$BIN/python -m pytest -p no:cacheprovider -q --doctest-modules tests src/moltres \
  --cov=moltres --cov-report=term --cov-report= "${ignores[@]}" "$@"

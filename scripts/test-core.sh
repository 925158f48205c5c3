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
# coverage starts before pytest, so the moltres modules its plugin (the pytest11 entry point)
# imports early are measured too
status=0
$BIN/coverage run -m pytest -p no:cacheprovider -q --doctest-modules tests src/moltres "${ignores[@]}" "$@" || status=$?
$BIN/coverage combine -q
# the integrations with their own virtualenvs are measured there
omit="*/integrations/airflow/*,*/integrations/prefect/*,*/integrations/django/*,*/integrations/streamlit.py"
omit="$omit,*/integrations/fastapi.py,*/integrations/_http_errors.py,*/integrations/_workflow.py"
$BIN/coverage report --omit="$omit" --skip-covered --sort=cover --fail-under="${MOLTRES_COVERAGE_MIN:-90}" || status=$((status ? status : 1))
exit $status

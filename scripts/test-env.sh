#!/usr/bin/env bash
# Run one integration suite in its own virtualenv: requirements/test-<env>.txt lists what to
# install beside moltres, requirements/test-<env>.dirs lists the test directories it owns.
set -euo pipefail
cd "$(dirname "$0")/.."
env="$1"
req="requirements/test-$env.txt"
dirs="requirements/test-$env.dirs"
if [ ! -f "$req" ]; then echo "no integration environment named $env"; exit 0; fi
venv=".venvs/$env"
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$req" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  ${PYTHON:-python3} -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -e . -r "$req"
  touch "$stamp"
fi
# Coverage data lives in a directory private to this run. pytest-cov erases the data file at
# start, then loads it and combines every .coverage.* beside it at the end: in the shared
# working directory that picked up whatever another suite (core, airflow, web, prefect) saved
# there meanwhile, and a suite's report counted lines only the other suite ran (the Prefect
# suite read 97% instead of its own 72.7%), or lost its data to the other run's erase.
COVERAGE_FILE="$(mktemp -d "${TMPDIR:-/tmp}/moltres-coverage-$env.XXXXXX")/.coverage"
export COVERAGE_FILE
trap 'rm -rf "$(dirname "$COVERAGE_FILE")"' EXIT
status=0
"$venv/bin/python" -m pytest -p no:cacheprovider -q $(cat "$dirs") || status=$?
exit $status

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
exec "$venv/bin/python" -m pytest -p no:cacheprovider -q $(cat "$dirs")

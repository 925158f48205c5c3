# One entry point for people and CI alike. Every target creates or updates its own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Integration suites whose dependencies conflict each get their own virtualenv under .venvs/.
INTEGRATION_ENVS := airflow prefect web

.PHONY: all demo test test-core test-integrations $(addprefix test-,$(INTEGRATION_ENVS)) bench lint typecheck clean

all: lint test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/moltres demo

test: test-core test-integrations

test-core: $(STAMP)
	scripts/test-core.sh

test-integrations: $(addprefix test-,$(INTEGRATION_ENVS))

# explicit targets: make never applies a pattern rule to a .PHONY target
$(addprefix test-,$(INTEGRATION_ENVS)):
	scripts/test-env.sh $(patsubst test-%,%,$@)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

# ruff walks the whole repo (git-ignored paths excluded), so folders that do not exist yet in a
# fresh clone cannot break it. .pre-commit-config.yaml runs these same tools from $(VENV).
# scripts/typecheck.sh: mypy on src/moltres and tests, without the integration suites' test dirs
# (requirements/test-*.dirs), whose frameworks live only in their own virtualenvs.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	scripts/typecheck.sh

typecheck: $(STAMP)
	scripts/typecheck.sh

clean:
	rm -rf $(VENV) .venvs .pytest_cache .mypy_cache .ruff_cache .coverage* htmlcov

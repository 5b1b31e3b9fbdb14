# Two commands on a fresh machine:
#   make demo   set up .venv (pip only) and run the main job on the bundled default data
#   make test   the same set-up, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hgqflow-installed
DEMO_DIR ?= runs/demo
PYTEST_ARGS ?=

.PHONY: setup system-tools demo test lint format doctor clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	@touch $(STAMP)

setup: $(STAMP)

system-tools:
	@bash .ci/system-tools.sh

# The furthest stage that exists so far: validate and run the example spec.
demo: setup
	$(BIN)/hgq doctor || true
	$(BIN)/hgq check examples/specs/tiny.json
	$(BIN)/hgq eval examples/specs/tiny.json --random 8

test: setup system-tools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

doctor: setup
	$(BIN)/hgq doctor

clean:
	rm -rf $(VENV) runs build *.egg-info .pytest_cache

# Two commands on a fresh machine:
#   make demo   set up .venv (pip only) and run the main job on the bundled default data
#   make test   the same set-up, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hgqflow-installed
DEMO_DIR ?= runs/demo
FLOW_ARGS ?=
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

# The main job: digits (bundled with scikit-learn, no network) -> HGQ training -> Pareto front
# -> spec -> Verilog -> cocotb on Verilator -> Yosys/nextpnr (iCE40) -> report with plots.
demo: setup
	$(BIN)/hgq flow --out $(DEMO_DIR) $(FLOW_ARGS)

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

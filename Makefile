# Two entry points, both of which set everything up on a fresh clone:
#   make demo   – simulate a recording, infer spikes with the zoo's ens2-exc, write results + plot
#   make test   – the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# CPU machines: install this exact torch first (a CPU wheel); any open range pulls a CUDA build.
TORCH_PIN ?= torch==2.13.0
ENS2ZOO_SHARED ?= $(abspath ../shared)
# the suite runs on pytest-xdist workers, one per core of the 2-core reference machine; a module's tests
# stay on one worker (--dist loadfile), so its module-scoped fixtures are built once
TEST_WORKERS ?= 2

.PHONY: demo test bench lint install clean lodo-report

$(VENV)/.installed: pyproject.toml examples/ens2zoo_example_plugin/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PIN)
	$(PIP) install --quiet -e ".[test,nwb,peers,dask]"
	$(PIP) install --quiet -e examples/ens2zoo_example_plugin
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/ens2zoo demo -o demo_output

test: install
	ENS2ZOO_SHARED=$(ENS2ZOO_SHARED) $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 tests

bench: install
	$(PIP) install --quiet -e ".[bench]"
	ENS2ZOO_SHARED=$(ENS2ZOO_SHARED) $(PY) -m pytest benchmarks --benchmark-enable --benchmark-columns=min,median,mean,rounds

# benchmarks/lodo/REPORT.md and its figures from the committed per-neuron CSVs (no training)
lodo-report: install
	ENS2ZOO_SHARED=$(ENS2ZOO_SHARED) $(PY) benchmarks/lodo/report.py benchmarks/lodo

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf demo_output .pytest_cache .benchmarks

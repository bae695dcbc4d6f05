# `make run` and `make test` set everything up from nothing (a .venv in this folder).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := resources/samples/sample_normal.png

.PHONY: run test train samples bench screenshot clean

$(VENV)/.app: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: $(VENV)/.app
	$(PY) -m pip install --quiet -e ".[train,dev]"
	touch $@

run: $(VENV)/.app
	$(VENV)/bin/ecg-desktop $(SAMPLE)

test: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# Retrain the bundled models (about 40 minutes on 2 CPU cores); rewrites models/ and the README table.
train: $(VENV)/.dev
	$(PY) -m training.train --seed 0 2>&1 | tee models/training_log.live.txt

samples: $(VENV)/.app
	$(PY) resources/make_samples.py

bench: $(VENV)/.app
	$(PY) benchmarks/bench_inference.py

screenshot: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshot.py

clean:
	rm -rf $(VENV) build dist .pytest_cache

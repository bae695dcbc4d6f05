# `make run` and `make test` set everything up from nothing (a .venv in this folder).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := resources/samples/sample_normal.png

.PHONY: run test train model-card samples bench screenshot clean

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
	$(VENV)/bin/ruff check .
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# Retrain the bundled models (about 2.7 hours on 2 idle CPU cores, see README; started again after a stop, it reuses every CNN
# already trained, kept in models/cache/; the signal branch is scored on the same folds and shipped when it wins);
# then measure the app on rendered negatives and acquisition conditions,
# and what the page reading contributes per condition (the fold CNNs again); rewrites models/, the README tables
# and the model card.
train: $(VENV)/.dev
	bash -o pipefail -c '$(PY) -m training.train --seed 0 2>&1 | tee models/training_log.live.txt'
	$(PY) -m training.app_measure --every 2
	$(PY) -m training.ablation --cache models/cache --metrics models/metrics.json
	$(PY) tools/make_model_card.py

# models/MODEL_CARD.md from models/metrics.json and models/manifest.json (never edited by hand).
model-card: $(VENV)/.app
	$(PY) tools/make_model_card.py

samples: $(VENV)/.app
	$(PY) resources/make_samples.py

bench: $(VENV)/.app
	$(PY) benchmarks/bench_inference.py

screenshot: $(VENV)/.dev
	QT_QPA_PLATFORM=offscreen $(PY) tools/screenshot.py

clean:
	rm -rf $(VENV) .venv-dist build dist .pytest_cache

# --- Standalone bundle (PyInstaller, own venv .venv-dist): dist/ECG-Desk/ECG-Desk; see build_spec/README.md.
# `make dist` always rebuilds; `make dist-test` rebuilds only when sources changed, then checks the bundle.
DIST_VENV := .venv-dist
DIST_PY := $(DIST_VENV)/bin/python
BUNDLE := dist/ECG-Desk/ECG-Desk
BUNDLE_SOURCES := pyproject.toml models/manifest.json $(shell find ecg_desktop build_spec resources/samples \
	-type f -not -path '*/__pycache__/*' 2>/dev/null)

$(DIST_VENV)/.dist: pyproject.toml
	test -x $(DIST_PY) || $(PYTHON) -m venv $(DIST_VENV)
	echo '*' > $(DIST_VENV)/.gitignore
	$(DIST_PY) -m pip install --quiet --upgrade pip
	$(DIST_PY) -m pip install --quiet -e ".[dist]" pytest
	touch $@

$(BUNDLE): $(DIST_VENV)/.dist $(BUNDLE_SOURCES)
	DIST_PY=$(DIST_PY) bash build_spec/build.sh

.PHONY: dist dist-test
dist: $(DIST_VENV)/.dist
	DIST_PY=$(DIST_PY) bash build_spec/build.sh

dist-test: $(BUNDLE)
	ECG_DESK_BUNDLE_TEST=1 $(DIST_PY) -m pytest -q -p no:cacheprovider -o addopts="-ra" \
		-W ignore::pytest.PytestConfigWarning tests/test_bundle.py

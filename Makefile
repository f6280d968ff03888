# Two commands do all the set-up:  `make lab`  and  `make test`.
# Both create .venv if it is missing and (re)install only when pyproject.toml or the lock
# (constraints.txt: every package at its exact version) changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Kernel settings for notebooks (keeps TensorFlow's C++ log lines out of cell outputs), and a
# quiet TensorFlow.
export IPYTHONDIR      := $(CURDIR)/.ipython
export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND   ?= tensorflow

.PHONY: setup browser lab app workshop lint test bench notebooks docs clean lock

LOCK := constraints.txt

# setuptools warns, in a box, that a folder named like the package in the working directory may
# shadow it: here that folder *is* the package (an editable install), so the box is left out.
QUIET_EDITABLE := PYTHONWARNINGS="ignore:Editable installation:Warning"

$(STAMP): pyproject.toml $(LOCK)
	@echo "==> Setting up $(VENV): clr and every package of the lock (Keras with TensorFlow and"
	@echo "    JAX, JupyterLab, Ray, Playwright...): about 3.1 GB, a few minutes from the package"
	@echo "    index on a first run, seconds afterwards. A workshop participant needs far less:"
	@echo "    make workshop (about 430 MB, no Keras)."
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(LOCK) pip
	@# The distribution was called `clr` before 0.2.0: a set-up made then has it installed.
	$(BIN)/python -m pip uninstall --quiet --yes clr 2>/dev/null || true
	$(QUIET_EDITABLE) $(BIN)/python -m pip install --progress-bar on -c $(LOCK) -e '.[all]'
	touch $(STAMP)
	@echo "==> $(VENV) is ready."

# Regenerate the lock from a fresh virtual environment: the newest releases pyproject.toml's
# ranges allow, and PyTorch's CPU build (the torch backend's run in `make test`).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e '.[all]' torch==2.13.0
	head -5 $(LOCK) > $(LOCK).new
	.venv-lock/bin/python -m pip freeze --all --exclude-editable | sed 's/+cpu$$//' >> $(LOCK).new
	mv $(LOCK).new $(LOCK) && rm -rf .venv-lock

$(IPYTHONDIR)/profile_default/ipython_kernel_config.py: tests/ipython_kernel_config.py
	mkdir -p $(dir $@)
	cp $< $@

# JupyterLab settings the project ships: no news pop-up over the notebook, no update checks,
# and no autosave rewriting a notebook just opened (save with Ctrl-S when you mean it).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
$(LAB_SETTINGS): lab-settings/overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp $< $@

setup: $(STAMP) $(IPYTHONDIR)/profile_default/ipython_kernel_config.py $(LAB_SETTINGS)

# JupyterLab refuses to run as root unless told (containers, CI machines).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

# Both servers listen on 127.0.0.1 only; JupyterLab keeps its random token (printed in the URL
# it opens). tests/test_servers.py starts them with these very arguments and checks both.
# Ports: `make lab PORT=8890`, `make app PORT=8867` (JupyterLab's default is 8888, taking the
# next free one when it is busy; the app's is 8866).
PORT ?=
LAB_ARGS := --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
	--LabApp.default_url=/lab/tree/01_policy_explorer.ipynb \
	--LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
	$(if $(PORT),--ServerApp.port=$(PORT))
APP_ARGS := notebooks/explorer_app.ipynb --Voila.ip=127.0.0.1 --port=$(or $(PORT),8866)

lab: setup
	$(BIN)/jupyter lab $(ROOT_FLAG) $(LAB_ARGS)

# The workshop projector view: the explorer as a Voila app, no code shown.
app: setup
	$(BIN)/voila $(APP_ARGS)

# A workshop participant's set-up from a clone: the `workshop` extra only (JupyterLab, the
# explorer and the exercises; no Keras), in its own .venv-workshop, then JupyterLab on the
# workshop notebook. The same as `pip install "cyclical-lr[workshop]"` and `python -m
# clr.notebooks`, from this checkout.
WORKSHOP_VENV := .venv-workshop
$(WORKSHOP_VENV)/.installed: pyproject.toml $(LOCK)
	@echo "==> Setting up $(WORKSHOP_VENV): clr with JupyterLab and the explorer, no Keras: about"
	@echo "    430 MB, under a minute from the package index."
	test -x $(WORKSHOP_VENV)/bin/python || $(PYTHON) -m venv $(WORKSHOP_VENV)
	$(QUIET_EDITABLE) $(WORKSHOP_VENV)/bin/python -m pip install --progress-bar on -c $(LOCK) -e '.[workshop]'
	touch $@

workshop: $(WORKSHOP_VENV)/.installed $(IPYTHONDIR)/profile_default/ipython_kernel_config.py
	$(WORKSHOP_VENV)/bin/jupyter lab $(ROOT_FLAG) $(subst 01_policy_explorer,04_workshop,$(LAB_ARGS))

# `make -s print-LAB_ARGS`: a variable's value (the tests read the servers' arguments so).
print-%:
	@echo $($*)

# Debian's Chromium for the browser tests (Playwright's own download does not work offline).
# Without root or apt the browser tests skip and say why; with them, a failed install fails.
browser:
	@if [ -x "$${CLR_CHROMIUM:-/usr/bin/chromium}" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "No Chromium and no root/apt-get to install it: the browser tests will skip."; fi

# The Keras tests: the schedules, momentum optimizers, save/load and range test must hold on
# any backend.
KERAS_TESTS := tests/test_keras.py tests/test_keras_entry_points.py tests/test_one_cycle.py \
	tests/test_range_test.py tests/test_range_test_pipelines.py tests/test_models.py \
	tests/test_keras_setups.py tests/test_saved_models.py

# The formatter and linter (ruff; settings in pyproject.toml): part of `make test`.
LINTED := clr tests bench scripts docs/conf.py docs/_ext

lint: setup
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)

# The whole suite on TensorFlow (tests/test_package.py builds the wheel and sdist and installs
# them into clean environments: numpy only, and the oldest versions the ranges allow, where the
# Keras tests run again), then the Keras tests on JAX, and on torch where PyTorch is installed
# (.ci/run installs its CPU build).
test: setup browser lint docs
	$(BIN)/python -m pytest --durations=15
	$(BIN)/python -m pytest -p no:nbval -o addopts=-ra --doctest-modules clr
	KERAS_BACKEND=jax $(BIN)/python -m pytest -p no:nbval -o addopts=-ra $(KERAS_TESTS)
	@if $(BIN)/python -c "import torch" 2>/dev/null; then \
		KERAS_BACKEND=torch $(BIN)/python -m pytest -p no:nbval -o addopts=-ra $(KERAS_TESTS); \
	else echo "PyTorch is not installed: the Keras tests' torch run is skipped" \
		"($(BIN)/python -m pip install -c $(LOCK) torch)."; fi

bench: setup
	$(BIN)/python bench/bench_policy.py
	$(BIN)/python bench/bench_loader_memory.py
	$(BIN)/python bench/bench_explorer.py
	$(BIN)/python bench/bench_explorer_browser.py --presses 30 --view voila --size 1280x720 --where
	$(BIN)/python bench/bench_explorer_browser.py --presses 30 --view voila --size 1920x1080 --where
	$(BIN)/python bench/bench_explorer_browser.py --presses 30 --view lab --size 1280x800 --where
	$(BIN)/python bench/bench_explorer_browser.py --presses 30 --view lab --size 1920x1080 --where
	$(BIN)/python bench/bench_training.py --steps 60 --rounds 11
	$(BIN)/python bench/bench_training_loop.py --steps 60 --rounds 7
	$(BIN)/python bench/bench_runner.py --steps 40 --rounds 7

# Re-run every notebook top to bottom and store its outputs (what nbval then compares). The
# workshop notebooks are generated first; the participant's exercise outputs are then emptied.
notebooks: setup
	$(BIN)/python scripts/build_workshop_notebooks.py
	for nb in notebooks/*.ipynb notebooks/solutions/*.ipynb; do \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=1200 --ExecutePreprocessor.store_widget_state=False "$$nb" || exit 1; \
	done
	$(BIN)/python scripts/build_workshop_notebooks.py --clear

# The documentation site, offline and strict: every warning (a broken cross-reference, a missing
# page or picture) fails the build. tests/test_docs.py then opens it in Chromium.
docs: setup
	rm -rf docs/_build docs/_generated
	$(BIN)/python -m sphinx -b html -W -n --keep-going -q docs docs/_build/html
	@echo "==> The site is in docs/_build/html/index.html"

clean:
	rm -rf $(VENV) $(WORKSHOP_VENV) $(IPYTHONDIR) .pytest_cache build docs/_build docs/_generated docs/_notebooks

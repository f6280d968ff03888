# Two commands do all the set-up:  `make lab`  and  `make test`.
# Both create .venv if it is missing and (re)install only when pyproject.toml changed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Kernel settings for notebooks (keeps TensorFlow's C++ log lines out of cell outputs), and a
# quiet TensorFlow.
export IPYTHONDIR      := $(CURDIR)/.ipython
export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND   ?= tensorflow

.PHONY: setup lab test bench notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

$(IPYTHONDIR)/profile_default/ipython_kernel_config.py: tests/ipython_kernel_config.py
	mkdir -p $(dir $@)
	cp $< $@

setup: $(STAMP) $(IPYTHONDIR)/profile_default/ipython_kernel_config.py

lab: setup
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		--LabApp.default_url=/lab/tree/01_policy_explorer.ipynb

test: setup
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/bench_policy.py
	$(BIN)/python bench/bench_training.py --steps 60 --rounds 11

# Re-run every notebook top to bottom and store its outputs (what nbval then compares).
notebooks: setup
	for nb in notebooks/*.ipynb; do \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=1200 --ExecutePreprocessor.store_widget_state=False "$$nb" || exit 1; \
	done

clean:
	rm -rf $(VENV) $(IPYTHONDIR) .pytest_cache

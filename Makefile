# Two commands set everything up on a fresh clone: `make demo` and `make test`.
# Both create .venv at the repo root and install the project into it.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# SAM CLI pins its own boto3 and pydantic, so it lives in a separate tool virtualenv.
TOOLS := .tools
SAM := $(TOOLS)/sam/bin/sam
SAM_STAMP := $(TOOLS)/sam/.installed
SAM_PYTHON ?= $(shell PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || command -v python3.12 || echo python3)
# checkov (the template's security scan) pins its own dependencies too: a third tool virtualenv.
CHECKOV_STAMP := $(TOOLS)/checkov/.installed

.PHONY: install demo test lint bench bench-scale tools clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(SAM_STAMP):
	$(SAM_PYTHON) -m venv $(TOOLS)/sam
	$(TOOLS)/sam/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/sam/bin/python -m pip install --quiet 'aws-sam-cli>=1.170,<2'
	touch $(SAM_STAMP)

$(CHECKOV_STAMP):
	$(SAM_PYTHON) -m venv $(TOOLS)/checkov
	$(TOOLS)/checkov/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/checkov/bin/python -m pip install --quiet 'checkov>=3.2,<4'
	touch $(CHECKOV_STAMP)

tools: $(SAM_STAMP) $(CHECKOV_STAMP)

demo: $(STAMP)
	$(VENV)/bin/hippolyte demo

test: $(STAMP) $(SAM_STAMP) $(CHECKOV_STAMP)
	HIPPOLYTE_REQUIRE_SAM=1 HIPPOLYTE_REQUIRE_CHECKOV=1 $(PY) -m pytest -n 3 --dist worksteal

lint: $(STAMP)
	$(VENV)/bin/ruff check functions tools tests bench
	$(VENV)/bin/mypy functions/hippolyte tools/hippolyte_local tools/hippolyte_cli

bench: $(STAMP)
	$(PY) bench/planner_bench.py

# A whole simulated night at 1,000, 2,500 and 10,000 tables (about 25 minutes on 2 cores), after
# each invocation's peak memory at 1,000 tables (tracemalloc makes that night several times slower,
# so the sizes' wall times are measured without it). Exits 1 when a target is missed.
bench-scale: $(STAMP)
	$(PY) bench/scale_bench.py --tables 1000 --memory --out bench/results/scale-memory.md
	$(PY) bench/scale_bench.py

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .pytest_cache .ruff_cache .mypy_cache

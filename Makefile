# Two commands do all set-up on a fresh machine:
#   make quickstart   install, train on the synthetic sample corpus, predict, serve
#   make test         install, run the whole test suite
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
SAMPLE_MODEL := models/sample
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install system-deps quickstart sample-model test lint format bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# pinned: the CPU wheel; an open range would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,scale]'
	touch $@

install: $(VENV)/.installed

sample-model: install
	$(BIN)/routing train data/sample/complaints.csv --text-col text --label-col agency \
		--id-col id --out $(SAMPLE_MODEL) --force

quickstart: sample-model
	$(BIN)/routing predict data/sample/incoming.csv --model $(SAMPLE_MODEL) --text-col text \
		--id-col id --top-k 3 --explain 3 --out var/incoming-predictions.jsonl --table
	# then serve the sample model in the foreground (Ctrl-C stops it); without keys the service
	# is open, which it allows on a loopback address only and says so at start-up
	ROUTING_API_KEYS= exec $(BIN)/routing serve --model $(SAMPLE_MODEL) --host 127.0.0.1 --port 8000

# Chromium for the browser tests (Debian package; Playwright never downloads a browser).
# Without root or apt the browser tests skip and say why.
system-deps:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

test: install system-deps
	$(PY) -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(PY) benchmarks/accuracy.py

clean:
	rm -rf $(VENV) var test-output .pytest_cache .ruff_cache

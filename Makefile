# Two commands on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app:create_app

.PHONY: run test install fonts translations db demo bench bench-review bench-certificates e2e lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) translations fonts

# The CJK font embedded in certificate PDFs (pinned npm package, sha256-checked; not in git).
CERT_FONT := app/plugins/certificate_assets/fonts/NotoSerifSC-Regular.ttf
fonts: $(CERT_FONT)

$(CERT_FONT):
	bash scripts/fonts.sh

translations: $(STAMP)
	$(BIN)/pybabel compile -f -d translations >/dev/null

db: install
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask ce init

demo: db
	$(BIN)/flask ce demo

run: demo
	@echo "Serving on http://127.0.0.1:8080"
	$(BIN)/flask run --host 127.0.0.1 --port 8080

test: install
	bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check app tests bench

bench: install
	$(BIN)/python -m bench.list_views

bench-review: install
	$(BIN)/python -m bench.review

bench-certificates: install
	$(BIN)/python -m bench.certificates

e2e: install
	$(BIN)/python -m pytest tests/e2e -m e2e

clean:
	rm -rf $(VENV) instance .pytest_cache

# cookiecutter-dash-auth: one command per job. Run `make help`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO := build/my_dash_app

.PHONY: help system-packages setup test demo lint clean bench format lock

help:
	@echo "make demo   generate the default project into $(DEMO) and run it on http://127.0.0.1:8050"
	@echo "make test   run every test of the template (bakes projects, runs their tests, browser + IdP)"
	@echo "make lint   ruff on the template's own code"
	@echo "make setup  only install what the tests need (Debian packages, .venv, node packages of the test IdP)"
	@echo "make bench  what auth costs per request: ours vs bare Dash vs dash-auth (about 12 min; bench/README.md)"
	@echo "make format ruff-format the generated project's code inside the template"
	@echo "make lock   refresh the lock files bakes ship (templates/locks/) after a pin or dependency moved;"
	@echo "            make lock UPGRADE=1 also takes new releases of everything not pinned"

$(BIN)/cookiecutter: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

tests/idp/node_modules: tests/idp/package-lock.json | system-packages
	cd tests/idp && npm ci --no-audit --no-fund --silent
	touch $@

system-packages:
	bash scripts/system-packages.sh

setup: system-packages $(BIN)/cookiecutter tests/idp/node_modules

test: lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check tests scripts bench
	$(BIN)/ruff format --check tests scripts bench

demo: $(BIN)/cookiecutter
	rm -rf $(DEMO)
	$(BIN)/cookiecutter --no-input --output-dir build .
	cd $(DEMO) && ../../$(BIN)/python app.py

bench:
	$(PYTHON) bench/run.py

lock: $(BIN)/cookiecutter
	$(BIN)/python scripts/lock.py $(if $(UPGRADE),--upgrade)

format: setup
	$(BIN)/python scripts/format_template.py

clean:
	rm -rf $(VENV) build tests/idp/node_modules .bench

# VMRE — one entry point. Every target works on a fresh clone with only Python (>= 3.11) and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
# The first Python >= 3.11 on PATH.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
	&& { echo $$p; break; }; done)
STAMP := $(VENV)/.installed

.PHONY: help install run test test-fast lint format migrate replay topics token clean belenios-tool bench chromium cabina graficas simulate checkov image

help:
	@echo "make run      toda la plataforma en esta máquina (broker local, 5 servicios, SQLite en var/)"
	@echo "make test     la suite completa (SQLite; y PostgreSQL si VMRE_TEST_DATABASE_URL está definida)"
	@echo "make lint     ruff + mypy"
	@echo "make migrate  aplica las migraciones de los 5 servicios"
	@echo "make replay   reconstruye el modelo de lectura (tablero) republicando los outbox"
	@echo "make simulate SCENARIO=escenarios/pel2021.json  un proceso electoral completo como simulacro"
	@echo "make bench    benchmarks, con el techo de esta máquina medido en la misma corrida"
	@echo "make cabina   reconstruye el cifrado de la cabina de votación (npm; el resultado va en git)"
	@echo "make graficas reconstruye las gráficas del tablero (Chart.js, npm; el resultado va en git)"
	@echo "make belenios-tool  la herramienta de referencia belenios-tool 3.0 en .tools/ (para las pruebas)"
	@echo "make image SERVICE=registro  la imagen de un servicio (Dockerfile; necesita docker o podman)"
	@echo "make checkov  checkov en .tools/checkov (políticas de deploy/k8s, para las pruebas)"

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: se necesita Python >= 3.11 (python3 --version)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "error: '$(PYTHON) -m venv' falló. En Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/vmre run

# Two workers: this machine has two cores (each worker starts its own broker and databases).
PYTEST_ARGS ?= -n 2 --dist worksteal

# The reference verifier (Debian 13's belenios-tool 3.0; on Debian 12 its packages unpacked into .tools/).
belenios-tool:
	@bash scripts/belenios-tool.sh

# checkov in its own venv (its dependencies clash with the project's): tests/deploy checks deploy/k8s with it.
checkov:
	@bash scripts/checkov.sh

# One service's image (Dockerfile, multi-stage, non-root). Needs a container engine (docker or podman).
SERVICE ?= registro
IMAGE ?= vmre-$(SERVICE)
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CONTAINER_ENGINE ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
image:
	@test -n "$(CONTAINER_ENGINE)" || { echo "error: make image necesita docker o podman"; exit 1; }
	$(CONTAINER_ENGINE) build --build-arg SERVICE=$(SERVICE) -t $(IMAGE):$(TAG) .

# Debian's chromium for the browser tests (the voting booth, the dashboard).
chromium:
	@bash scripts/chromium.sh

# A whole electoral process as a drill, through the public HTTP APIs (starts its own platform).
SCENARIO ?= escenarios/pel2021.json
simulate: $(STAMP)
	$(BIN)/python -m simulacion $(SCENARIO)

# Rebuild the voting booth's encryption bundle (the built file is committed: `make run` needs no Node).
cabina:
	cd services/electronico/cabina && npm ci && npm run build

# Rebuild the dashboard's chart bundle (Chart.js; the built file is committed: `make run` needs no Node).
graficas:
	cd services/tablero/graficas && npm ci && npm run build

test: $(STAMP) belenios-tool chromium checkov
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench

test-fast: $(STAMP) belenios-tool chromium checkov
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/vmre migrate

replay: $(STAMP)
	$(BIN)/vmre replay

topics: $(STAMP)
	$(BIN)/vmre topics

clean:
	rm -rf $(VENV) var .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info

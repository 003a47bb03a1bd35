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

.PHONY: help install run test test-fast test-unit lint format migrate replay topics clean belenios-tool bench soak wrk chromium cabina graficas simulate checkov image

# Every target's line ends in "## " and a one-line description: `make help` lists them from here and names any
# target left without one.
help: ## esta lista (lo que hace `make` sin objetivo)
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(firstword $(MAKEFILE_LIST)) \
		| awk 'BEGIN { FS = ":.*## " } { printf "make %-14s %s\n", $$1, $$2 }'
	@grep -E '^[a-zA-Z0-9_-]+:' $(firstword $(MAKEFILE_LIST)) | grep -v '## ' | cut -d: -f1 \
		| sed 's/^/aviso: objetivo sin descripción en el Makefile: /' >&2 || true

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: se necesita Python >= 3.11 (python3 --version)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "error: '$(PYTHON) -m venv' falló. En Debian/Ubuntu: apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## crea .venv e instala el proyecto con sus dependencias de desarrollo

run: $(STAMP) ## toda la plataforma en esta máquina (broker local, 6 servicios, SQLite en var/)
	$(BIN)/vmre run

# Two workers: this machine has two cores (each worker starts its own broker and databases).
PYTEST_ARGS ?= -n 2 --dist worksteal

# The reference verifier (Debian 13's belenios-tool 3.0; on Debian 12 its packages unpacked into .tools/).
belenios-tool: ## la herramienta de referencia belenios-tool 3.0 en .tools/ (para las pruebas)
	@bash scripts/belenios-tool.sh

# checkov in its own venv (its dependencies clash with the project's): tests/deploy checks deploy/k8s with it.
checkov: ## checkov en .tools/checkov (políticas de deploy/k8s, para las pruebas)
	@bash scripts/checkov.sh

# One service's image (Dockerfile, multi-stage, non-root). Needs a container engine (docker or podman).
SERVICE ?= registro
IMAGE ?= vmre-$(SERVICE)
TAG ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
CONTAINER_ENGINE ?= $(shell command -v docker 2>/dev/null || command -v podman 2>/dev/null)
image: ## la imagen de un servicio, SERVICE=registro (Dockerfile; necesita docker o podman)
	@test -n "$(CONTAINER_ENGINE)" || { echo "error: make image necesita docker o podman"; exit 1; }
	$(CONTAINER_ENGINE) build --build-arg SERVICE=$(SERVICE) -t $(IMAGE):$(TAG) .

# Debian's chromium for the browser tests (the voting booth, the dashboard).
chromium: ## el Chromium de Debian para las pruebas con navegador (cabina, tablero)
	@bash scripts/paquete-debian.sh chromium chromium "el navegador de las pruebas"

# A whole electoral process as a drill, through the public HTTP APIs (starts its own platform).
SCENARIO ?= escenarios/pel2021.json
ESCALA ?= 1
simulate: $(STAMP) ## un proceso electoral completo como simulacro, SCENARIO=escenarios/pel2021.json [ESCALA=0.1]
	$(BIN)/python -m simulacion $(SCENARIO) --escala $(ESCALA)

# Rebuild the voting booth's encryption bundle (the built file is committed: `make run` needs no Node).
cabina: ## reconstruye el cifrado de la cabina de votación (npm; el resultado va en git)
	cd services/electronico/cabina && npm ci && npm run build

# Rebuild the dashboard's chart bundle (Chart.js; the built file is committed: `make run` needs no Node).
graficas: ## reconstruye las gráficas del tablero (Chart.js, npm; el resultado va en git)
	cd services/tablero/graficas && npm ci && npm run build

test: $(STAMP) belenios-tool chromium checkov wrk ## la suite completa (SQLite; y PostgreSQL si VMRE_TEST_DATABASE_URL está definida)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) wrk ## benchmarks, con el techo de esta máquina medido en la misma corrida (wrk en su núcleo)
	$(BIN)/python -m bench

soak: $(STAMP) ## un millón de eventos por el broker, con la memoria de cada servicio cada 50,000 (15-30 min)
	$(BIN)/python -m bench.soak

# wrk from Debian's package: the HTTP load generator of `make bench`, pinned to its own core.
wrk: ## el generador de carga wrk (paquete de Debian) para make bench
	@bash scripts/paquete-debian.sh wrk wrk "el generador de carga de make bench"

test-fast: $(STAMP) belenios-tool chromium checkov wrk ## la suite sin las pruebas e2e (los servicios como procesos)
	$(BIN)/pytest -m "not e2e" $(PYTEST_ARGS)

# Under a minute, with nothing but the venv: no browser, broker, belenios-tool, checkov or kubectl, no services as
# processes and nothing heavy (markers in pyproject.toml; tests/conftest.py adds them from the fixtures a test uses).
test-unit: $(STAMP) ## las pruebas rápidas (< 1 min): sin navegador, broker, herramientas externas, e2e ni slow
	$(BIN)/pytest -m "not e2e and not kafka and not externo and not slow" $(PYTEST_ARGS)

lint: $(STAMP) ## ruff + mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP) ## formatea y corrige lo que ruff sabe corregir
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP) ## aplica las migraciones de los 6 servicios
	$(BIN)/vmre migrate

replay: $(STAMP) ## reconstruye el modelo de lectura (tablero) republicando los outbox
	$(BIN)/vmre replay

topics: $(STAMP) ## crea en el broker los tópicos que usa el código
	$(BIN)/vmre topics

clean: ## borra .venv, var/, .tools/ y las cachés
	rm -rf $(VENV) var .tools .pytest_cache .mypy_cache .ruff_cache *.egg-info

# 能力評価システム — the commands a developer and CI use (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
UV_VERSION := 0.13.9
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: test-faults test-faults-brokers help install infra-up infra-down infra-status services-up services-down demo-data run stop test test-unit lint fmt schemas docs audit bench

help:
	@echo "make run     - install everything, start the infrastructure and every service"
	@echo "make stop    - stop the services and the infrastructure"
	@echo "make test    - install everything, start the infrastructure if needed, run all tests"
	@echo "make test-faults - the fault suite on its own infrastructure (docs/faults.md)"
	@echo "make test-faults-brokers - one of three Kafka nodes killed under load (docs/faults.md)"
	@echo "make bench   - the benchmarks of bench/ (< 20 min); report in bench/results/ (BENCH_ARGS=--quick)"
	@echo "make test-unit | lint | fmt | audit | infra-up | infra-down | infra-status | schemas | docs"
	@echo "make deploy-check - the offline checks of docker-compose.yml and deploy/k8s (tests/deploy)"
	@echo "make manifests - regenerate deploy/k8s/base/generated, deploy/k8s/ops and deploy/compose/topics.txt"

install:
	deploy/local/install.sh
	@$(UV) --version 2>/dev/null | grep -q "$(UV_VERSION)" || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen

infra-up:
	deploy/local/start.sh

infra-down:
	deploy/local/stop.sh

infra-status:
	deploy/local/status.sh

services-up:
	deploy/local/services.sh start

services-down:
	deploy/local/services.sh stop

run: install infra-up services-up demo-data
	@echo ""
	@echo "能力評価システム is running: portal http://127.0.0.1:8000/  (mail sink http://127.0.0.1:8025/)"
	@echo "stop it with: make stop"

# The demo stack's CCUS data: the eight demo workers of docs/ccus-feed.md and 300 synthetic
# workers (loaded once per data directory; `rm var/.demo-loaded` to load them again).
demo-data:
	@if [ ! -f var/.demo-loaded ]; then \
	  $(UV) run python -m judgement feed demo && \
	  $(UV) run python -m judgement feed synthetic --count 300 --seed 1 --as-of 2026-11-20 && \
	  touch var/.demo-loaded; \
	else echo "[demo] CCUS demo data already loaded (rm var/.demo-loaded to reload)"; fi

stop:
	-deploy/local/services.sh stop
	deploy/local/stop.sh

test: install lint infra-up
	$(UV) run pytest

# The fault suite (docs/faults.md) on its own infrastructure instance (var/faults, other
# ports): started fresh here, stopped at the end whatever the outcome. FAULT_APPLICATIONS=500 for
# the full run (default 100 applications × 5 lines).
FAULTS_INFRA := INFRA_VAR_DIR=$(CURDIR)/var/faults INFRA_PG_PORT=25432 INFRA_FERRETDB_PORT=27117 \
	INFRA_KAFKA_PORT=29092 INFRA_KAFKA_CONTROLLER_PORT=29093 INFRA_SMTP_PORT=21025 INFRA_SMTP_HTTP_PORT=28025
test-faults: install
	-$(FAULTS_INFRA) deploy/local/stop.sh >/dev/null
	rm -rf var/faults
	$(FAULTS_INFRA) deploy/local/start.sh
	$(FAULTS_INFRA) $(UV) run pytest tests/faults -m faults -s; \
	  rc=$$?; $(FAULTS_INFRA) deploy/local/stop.sh; exit $$rc

# One of three Kafka nodes killed under load (tests/faults/test_broker_loss.py, docs/faults.md):
# its own instance (var/faults-brokers) on the fault ports, with KAFKA_BROKERS=3 (Kafka on
# 29092/29094/29096). 200 applications × 5 lines (FAULT_APPLICATIONS overrides).
FAULTS_BROKERS_INFRA := $(subst var/faults,var/faults-brokers,$(FAULTS_INFRA)) KAFKA_BROKERS=3
test-faults-brokers: install
	-$(FAULTS_BROKERS_INFRA) deploy/local/stop.sh >/dev/null
	rm -rf var/faults-brokers
	$(FAULTS_BROKERS_INFRA) deploy/local/start.sh
	$(FAULTS_BROKERS_INFRA) $(UV) run pytest tests/faults/test_broker_loss.py -m faults -s; \
	  rc=$$?; $(FAULTS_BROKERS_INFRA) deploy/local/stop.sh; exit $$rc

# The benchmarks (bench/README.md): dated report in bench/results/; BENCH_ARGS=--quick for a smoke run.
bench: install infra-up
	$(UV) run python bench/run_all.py $(BENCH_ARGS)

test-unit: 
	$(UV) run pytest -m unit

lint:
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy shared/src services/*/src scripts
	$(UV) run python scripts/check_imports.py

# Known vulnerabilities in the locked dependencies (pip-audit; see docs/security.md). Fails on a
# found vulnerability; says so plainly and passes when no vulnerability database is reachable.
audit:
	$(UV) run python scripts/audit.py

fmt:
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

schemas:
	$(UV) run python -m shared_kernel.events.schemas --write

docs:
	$(UV) run python scripts/asyncapi.py --write
	$(UV) run python scripts/config_doc.py --write
	$(UV) run python scripts/deploy_manifests.py --write

# Deployment files (deploy/README.md): the generated Kubernetes manifests and compose topics
# follow docs/asyncapi.json; the checks need the tools install.sh puts into .deps/.
.PHONY: manifests deploy-check
manifests:
	$(UV) run python scripts/deploy_manifests.py --write

deploy-check: install
	$(UV) run pytest tests/deploy -q

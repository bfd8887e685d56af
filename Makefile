# Two commands on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
DB ?= isp
TEST_DB ?= isp_test
export DB TEST_DB

.PHONY: setup run test bench lint
setup:            ## install everything the suite needs (idempotent, cached)
	@bash scripts/setup.sh

run: setup        ## database $(DB) with all five modules and demo data, served on http://localhost:8069
	@bash scripts/run.sh

test: setup       ## fresh database $(TEST_DB), all five modules installed, every test run (and Odoo's own, see README)
	@bash scripts/test.sh

bench: setup      ## benchmarks: print figures and ratios, never fail the build
	@bash bench/run.sh

lint: setup       ## ruff, ruff format --check, pylint-odoo mandatory checks, docker-compose config
	@bash scripts/lint.sh

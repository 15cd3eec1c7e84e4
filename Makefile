# PdM — thin aliases for what CI and developers run. `make help` lists them.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

.PHONY: help build test run deps-start deps-stop deps-status up down compose-config format

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

build: ## Build the solution (warnings are errors)
	dotnet build PdM.sln -nologo -v minimal

test: ## Install/start PostgreSQL, RabbitMQ, Mosquitto on loopback, run every test project, print "N passed, N failed"
	@bash scripts/test.sh

run: ## The whole platform on embedded defaults: simulator → gateway → work orders (Ctrl-C stops it all)
	@bash scripts/run.sh

deps-start: ## Start the local servers (infra/local/deps.sh start)
	@bash infra/local/deps.sh start

deps-stop: ## Stop the local servers
	@bash infra/local/deps.sh stop

deps-status: ## Show the local servers
	@bash infra/local/deps.sh status

up: ## Production topology with docker compose (needs a Docker engine)
	docker compose up -d --build

down: ## Stop the compose topology
	docker compose down

compose-config: ## Validate docker-compose.yml without an engine
	docker-compose -f docker-compose.yml config -q

format: ## Apply .editorconfig style
	dotnet format PdM.sln

# PdM — thin aliases for what CI and developers run. `make help` lists them.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

.PHONY: help build test run bench-ingest bench-inference bench-delivery bench-scale bench-models deps-start deps-stop deps-status up down compose-config format

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}'

build: ## Build the solution (warnings are errors)
	dotnet build PdM.sln -nologo -v minimal

test: ## Install/start PostgreSQL, RabbitMQ, Mosquitto on loopback, run every test project, print "N passed, N failed"
	@bash scripts/test.sh

run: ## The whole platform on embedded defaults: simulator → gateway → rules, then a model trained in the background → work orders (Ctrl-C stops it all)
	@bash scripts/run.sh

bench-ingest: ## Ingest throughput: mosquitto_sub vs bare MQTTnet vs the gateway pipeline, tracing off/default/100 % in 6 rotating rounds (about 15 minutes)
	@bash infra/local/deps.sh start mosquitto >&2
	@dotnet build tests/PdM.Benchmarks.Ingest -c Release -nologo -v quiet
	@eval "$$(bash infra/local/deps.sh env)" && dotnet tests/PdM.Benchmarks.Ingest/bin/Release/net10.0/PdM.Benchmarks.Ingest.dll

bench-inference: ## Scoring stage vs bare ONNX Runtime, end-to-end ingest with a model vs mosquitto_sub, idle CPU (about 3 minutes)
	@bash infra/local/deps.sh start mosquitto >&2
	@dotnet build tests/PdM.Benchmarks.Ingest -c Release -nologo -v quiet
	@dotnet build tests/PdM.Benchmarks.Inference -c Release -nologo -v quiet
	@eval "$$(bash infra/local/deps.sh env)" && dotnet tests/PdM.Benchmarks.Inference/bin/Release/net10.0/PdM.Benchmarks.Inference.dll

bench-delivery: ## Backlog drain vs steady ingest after a bus outage, live-alert p99 during the drain, lost/duplicated; the same under the uplink bandwidth ceiling (about 2 minutes)
	@bash infra/local/deps.sh start >&2
	@dotnet build tests/PdM.Benchmarks.Delivery -c Release -nologo -v quiet
	@eval "$$(bash infra/local/deps.sh env)" && dotnet tests/PdM.Benchmarks.Delivery/bin/Release/net10.0/PdM.Benchmarks.Delivery.dll

bench-scale: ## On the 3-node RabbitMQ cluster: Maintenance predictions/s with one vs two replicas; seconds for a killed gateway's assets to be decided again (about 5 minutes)
	@bash infra/local/deps.sh start postgres mosquitto rabbitmq-cluster >&2
	@dotnet build tests/PdM.Benchmarks.Scale -c Release -nologo -v quiet
	@dotnet build edge/PdM.Edge.Gateway -c Release -nologo -v quiet
	@eval "$$(bash infra/local/deps.sh env)" && dotnet tests/PdM.Benchmarks.Scale/bin/Release/net10.0/PdM.Benchmarks.Scale.dll

bench-models: ## FD001 grouped-CV RUL and AI4I F1 vs the physics rules; writes rul_predictions_FD001.csv (TRUE_RUL=file to score the test set)
	dotnet run -c Release --project tests/PdM.Training.Benchmarks -- $(if $(TRUE_RUL),--true-rul $(TRUE_RUL),)

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

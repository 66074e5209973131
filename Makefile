# eventide — make help lists the targets.
GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
PKGS     := ./...
DATA_DIR ?= $(CURDIR)/data/n1
FUZZTIME ?= 10s

.PHONY: help run build test fuzz e2e chaos bench proto lint cluster cluster-down

## help: list targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## run: start a one-node cluster (embedded, data under ./data)
run: build
	./bin/eventide serve --node-id n1 --data-dir $(DATA_DIR) --bind-addr 127.0.0.1

## build: build bin/eventide (static)
build:
	CGO_ENABLED=0 $(GO) build -o bin/eventide ./cmd/eventide

## test: vet, format check and the test suite with the race detector
test: lint
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## fuzz: run every fuzz target (func Fuzz* in any package) for FUZZTIME each (default 10s); their seed corpora also run in make test
fuzz:
	GO=$(GO) bash scripts/fuzz.sh $(FUZZTIME)

## e2e: black-box tests against separate eventide processes
e2e: build
	EVENTIDE_BIN=$(CURDIR)/bin/eventide $(GO) test -tags e2e -count=1 -timeout 30m ./e2e/...

# The Docker cluster (docker-compose.yml): `docker compose` if the plugin is
# there, else docker-compose; COMPOSE=... overrides.
cluster cluster-down chaos: COMPOSE ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
# The image's root filesystem besides the binary: /data, /tmp and the
# host's CA bundle (handlers' curl() verifies https servers with it).
cluster chaos: ROOTFS = mkdir -p bin/rootfs/data bin/rootfs/tmp bin/rootfs/etc/ssl/certs; \
	if [ -f /etc/ssl/certs/ca-certificates.crt ]; then cp /etc/ssl/certs/ca-certificates.crt bin/rootfs/etc/ssl/certs/; \
	else echo "warning: no /etc/ssl/certs/ca-certificates.crt: curl() to https servers will fail in the image"; fi

## cluster: build the image (eventide:dev) and start 3 nodes in Docker; node 1 on 127.0.0.1:8091/8096/4984
cluster: build
	@$(ROOTFS)
	docker build -q -t eventide:dev .
	$(COMPOSE) -p eventide up -d
	@echo "waiting for 3 healthy nodes at http://127.0.0.1:8091/pools/default"; \
	for i in $$(seq 120); do \
		n=$$(curl -s -m 2 -u Administrator:password http://127.0.0.1:8091/pools/default | grep -o '"status":"healthy"' | wc -l); \
		if [ "$$n" -eq 3 ]; then echo "cluster up: n1, n2, n3 at $${EVENTIDE_NET:-172.28.0}.11, .12, .13; node 1's APIs on 127.0.0.1 (make cluster-down removes it)"; exit 0; fi; \
		sleep 1; \
	done; \
	echo "the cluster did not become healthy in 2 minutes"; $(COMPOSE) -p eventide logs --tail 30; exit 1

## cluster-down: remove the Docker cluster's containers, network and volumes
cluster-down:
	$(COMPOSE) -p eventide down -v --remove-orphans

## chaos: fault-injection tests against a fresh Docker cluster (kill, partition, rolling restart, pause)
chaos: build
	@$(ROOTFS)
	docker build -q -t eventide:dev .
	COMPOSE="$(COMPOSE)" $(GO) test -tags chaos -count=1 -timeout 40m -v ./chaos/...

## bench: print throughput and latency figures (one node, a 3-node cluster, one handler worker)
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 30m ./bench/...
	$(GO) test -run '^$$' -bench 'WorkerHandle|FireTimer' -benchtime 20000x -count=1 ./handler/

## proto: regenerate the protobuf/gRPC code in proto/
proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1
	PATH="$(GOBIN):$$PATH" protoc --go_out=. --go_opt=module=eventide \
		--go-grpc_out=. --go-grpc_opt=module=eventide proto/nodepb/*.proto

## lint: gofmt and go vet
lint:
	@out=$$(find . -name '*.go' -not -name '*.pb.go' -not -path './.git/*' | xargs gofmt -l); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

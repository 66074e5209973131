# eventide — make help lists the targets.
GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
PKGS     := ./...
DATA_DIR ?= $(CURDIR)/data/n1

.PHONY: help run build test e2e chaos bench proto lint cluster cluster-down

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

## e2e: black-box tests against separate eventide processes
e2e: build
	EVENTIDE_BIN=$(CURDIR)/bin/eventide $(GO) test -tags e2e -count=1 -timeout 30m ./e2e/...

## bench: print throughput and latency figures for one node
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 30m ./bench/...

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

# scbkit developer entry points. `make test` is the official test command
# (the same one CI runs through .ci/run).

GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all test check fmt vet staticcheck cassandra cluster-start cluster-stop cluster-status

all: check test

## test: fetch Cassandra if needed, start the shared test clusters, run every test suite, stop the clusters
test:
	scripts/test.sh

## check: formatting, go vet and staticcheck
check: fmt vet staticcheck

fmt:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

staticcheck:
	$(STATICCHECK) ./...

## cassandra: resolve the Cassandra jars into .cache (once)
cassandra:
	scripts/fetch-cassandra.sh

## cluster-start / cluster-stop / cluster-status: a long-lived local cluster for hand runs
## (then: export SCB_TEST_STATE=$$PWD/.cache/testcluster/dev-state.json; go test ./...)
cluster-start:
	scripts/testcluster.sh start

cluster-stop:
	scripts/testcluster.sh stop

cluster-status:
	scripts/testcluster.sh status

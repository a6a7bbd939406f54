#!/usr/bin/env bash
# The whole test suite: formatting, vet, race-enabled tests (unit, integration
# against in-process servers, process-level tests with redis-cli and
# redis-server when installed), and a short run of each fuzz target.
set -euo pipefail
cd "$(dirname "$0")"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...
# The release targets other than this machine's: system-call code differs
# per OS and architecture (linux/arm64 has no poll(2), for one).
for target in linux/arm64 darwin/amd64 darwin/arm64; do
  GOOS=${target%/*} GOARCH=${target#*/} go vet ./...
done

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

# Fuzz budgets are execution counts, not durations: with a duration, Go
# 1.26's fuzz coordinator can report its own stop deadline as a failure
# ("context deadline exceeded", golang/go#75804) on a busy machine. Each
# count is about 10 s here; FUZZTIME (e.g. 60s or 1000000x) overrides all.
# Minimizing a new interesting input is bounded by count too (it is not
# part of -fuzztime, and took 40 s once).
echo "== fuzz smoke"
fuzz() { go test -run '^$' -fuzz "^$1\$" -fuzztime "${FUZZTIME:-$2}" -fuzzminimizetime 2000x "$3"; }
fuzz FuzzReader 150000x ./server/resp/
fuzz FuzzParse 100000x ./server/config/
fuzz FuzzDispatch 80000x ./server/
fuzz FuzzLoad 60000x ./server/rdb/
fuzz FuzzReadReply 150000x ./ops/

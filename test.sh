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

echo "== fuzz smoke (${FUZZTIME:=10s} per target)"
go test -run '^$' -fuzz '^FuzzReader$' -fuzztime "$FUZZTIME" ./server/resp/
go test -run '^$' -fuzz '^FuzzParse$' -fuzztime "$FUZZTIME" ./server/config/
go test -run '^$' -fuzz '^FuzzDispatch$' -fuzztime "$FUZZTIME" ./server/
go test -run '^$' -fuzz '^FuzzLoad$' -fuzztime "$FUZZTIME" ./server/rdb/
go test -run '^$' -fuzz '^FuzzReadReply$' -fuzztime "$FUZZTIME" ./ops/

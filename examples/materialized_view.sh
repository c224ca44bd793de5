#!/usr/bin/env bash
# A materialized view with runnel: a per-group count and sum of the Orders
# table, kept in OrderTotals by the function examples/materialized_view.cc
# (read-modify-write from the Orders stream, exactly once).
#
#   examples/materialized_view.sh [BUILD_DIR]     (default: build)
#
# It creates a fresh DB in a temporary directory, hosts it with `runnel run`
# (which runs the mapping), writes orders from this shell (through the
# host's socket) and prints the view after each step.
set -euo pipefail
build=${1:-build}
runnel="$build/tools/runnel"
library="$build/examples/materialized_view.so"
[[ -x $runnel && -f $library ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d)
export RUNNEL_DB="$work/view-db"
host=
cleanup() {
  if [[ -n $host ]]; then kill -INT "$host" 2>/dev/null || true; wait "$host" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ runnel %s\n' "$*"; "$runnel" "$@"; }
field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -1; }
# Waits until the function has applied `$1` records in all (it logs
# "applied N records to OrderTotals" per batch).
settle() {
  for _ in $(seq 200); do
    local n
    n=$("$runnel" logs --function-name MaterializedView |
      sed -n 's/.* applied \([0-9]*\) records.*/\1/p' | awk '{s += $1} END {print s + 0}')
    [[ $n -ge $1 ]] && return
    sleep 0.05
  done
  echo "the mapping did not catch up" >&2
  exit 1
}
# Prints the view, compact, and checks its items against $1.
view() {
  printf '$ runnel scan --table-name OrderTotals\n'
  local got
  got=$("$runnel" scan --table-name OrderTotals | tr -d ' \n')
  echo "$got"
  [[ $got == "{\"Items\":[$1]"* ]] || { echo "expected the items $1" >&2; exit 1; }
}

say "The source table, with a stream of old and new images, and the view table"
run create-table --table-name Orders \
  --attribute-definitions AttributeName=id,AttributeType=S \
  --key-schema AttributeName=id,KeyType=HASH \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
run create-table --table-name OrderTotals \
  --attribute-definitions AttributeName=group,AttributeType=S \
  --key-schema AttributeName=group,KeyType=HASH >/dev/null
arn=$("$runnel" describe-table --table-name Orders | field LatestStreamArn)

say "The function and its mapping"
run create-function --function-name MaterializedView --library "$library" \
  --environment 'Variables={VIEW_TABLE=OrderTotals}' >/dev/null
uuid=$("$runnel" create-event-source-mapping --function-name MaterializedView \
  --event-source "$arn" --batch-size 100 --starting-position TRIM_HORIZON | field UUID)
echo "mapping $uuid"

"$runnel" run &
host=$!
for _ in $(seq 100); do [[ -S $RUNNEL_DB/runnel.sock ]] && break; sleep 0.05; done

say "Three orders (INSERT)"
run put-item --table-name Orders --item '{"id":{"S":"o1"},"group":{"S":"books"},"amount":{"N":"12"}}'
run put-item --table-name Orders --item '{"id":{"S":"o2"},"group":{"S":"books"},"amount":{"N":"30"}}'
run put-item --table-name Orders --item '{"id":{"S":"o3"},"group":{"S":"games"},"amount":{"N":"55"}}'
settle 3
view '{"count":{"N":"2"},"group":{"S":"books"},"sum":{"N":"42"}},{"count":{"N":"1"},"group":{"S":"games"},"sum":{"N":"55"}}'

say "o2 moves to games and costs 25 now (MODIFY); o1 is deleted (REMOVE)"
run update-item --table-name Orders --key '{"id":{"S":"o2"}}' \
  --update-expression 'SET #g = :g, amount = :a' \
  --expression-attribute-names '{"#g":"group"}' \
  --expression-attribute-values '{":g":{"S":"games"},":a":{"N":"25"}}'
run delete-item --table-name Orders --key '{"id":{"S":"o1"}}'
settle 5
view '{"count":{"N":"2"},"group":{"S":"games"},"sum":{"N":"80"}}'

say "The function's log"
run logs --function-name MaterializedView | grep -v -E ' (START|END|REPORT) RequestId' || true

#!/usr/bin/env bash
# The cloud tutorial "Process DynamoDB Streams with Lambda" (Step 3), with
# runnel: every step is the same command and flags, against a local DB.
#
#   examples/tutorial.sh [BUILD_DIR]     (default: build)
#
# It creates a fresh DB in a temporary directory, hosts it with `runnel run`
# (which runs the mapping), and works on it from this shell through the
# host's socket, as a second shell would.
set -euo pipefail
build=${1:-build}
runnel="$build/tools/runnel"
library="$build/examples/process_stream.so"
[[ -x $runnel && -f $library ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
work=$(mktemp -d)
export RUNNEL_DB="$work/tutorial-db"
host=
cleanup() {
  if [[ -n $host ]]; then kill -INT "$host" 2>/dev/null || true; wait "$host" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n# %s\n' "$*"; }
run() { printf '$ runnel %s\n' "$*"; "$runnel" "$@"; }
# A field of the JSON a command printed (no jq needed).
field() { sed -n "s/.*\"$1\": \"\\([^\"]*\\)\".*/\\1/p" | head -1; }

say "Step 3.1: create a table with a stream enabled (RUNNEL_DB=$RUNNEL_DB)"
run create-table --table-name Music \
  --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
  --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES
arn=$("$runnel" describe-table --table-name Music | field LatestStreamArn)
say "Write down the stream ARN: $arn"

say "The function: ProcessDynamoDBStream, from examples/process_stream.c"
run create-function --function-name ProcessDynamoDBStream --library "$library"

say "Step 3.2: add the event source; note down the UUID"
out=$(run create-event-source-mapping --function-name ProcessDynamoDBStream \
  --event-source "$arn" --batch-size 100 --starting-position TRIM_HORIZON)
echo "$out"
uuid=$(echo "$out" | field UUID)
say "UUID: $uuid"
run list-event-source-mappings --function-name ProcessDynamoDBStream --event-source "$arn"

say "Host the DB: 'runnel run' runs the mapping (Lambda's role) until Ctrl-C"
"$runnel" run &
host=$!
for _ in $(seq 100); do [[ -S $RUNNEL_DB/runnel.sock ]] && break; sleep 0.05; done

say "Step 3.3: add, update and delete an item (this shell reaches the host's socket)"
key='{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}'
run put-item --table-name Music \
  --item '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"},"AlbumTitle":{"S":"Somewhat Famous"}}'
run update-item --table-name Music --key "$key" \
  --update-expression 'SET AlbumTitle = :a ADD Plays :one' \
  --expression-attribute-values '{":a":{"S":"Songs About Life"},":one":{"N":"1"}}' \
  --return-values ALL_NEW
run delete-item --table-name Music --key "$key" --condition-expression 'attribute_exists(Artist)'

say "The function ran: its log (CloudWatch's role)"
for _ in $(seq 100); do
  "$runnel" logs --function-name ProcessDynamoDBStream | grep -q REMOVE && break
  sleep 0.05
done
run logs --function-name ProcessDynamoDBStream
run get-event-source-mapping --uuid "$uuid" | grep -E '"(UUID|State|LastProcessingResult)"'

say "Stop the host; then check the log end to end"
kill -INT "$host"
wait "$host"
host=
run inspect log --verify >/dev/null
echo "inspect log --verify: every checksum, payload and sequence number is intact"

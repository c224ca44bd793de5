#!/usr/bin/env bash
# The cloud tutorial "Process DynamoDB Streams with Lambda" (Step 3) with the
# real AWS CLI v2 (Debian's awscli, /usr/bin/aws), unmodified, against
# `runnel run --listen`: the same commands as in the cloud, with an
# --endpoint-url.
#
#   examples/tutorial-aws.sh [BUILD_DIR]     (default: build)
#
# It creates a fresh DB in a temporary directory and hosts it with
# `runnel run --listen 127.0.0.1:0` (a free port), which serves DynamoDB,
# DynamoDB Streams, Lambda and CloudWatch Logs and runs the mapping.
set -euo pipefail
build=${1:-build}
runnel="$build/tools/runnel"
library="$build/examples/process_stream.so"
aws=/usr/bin/aws  # Debian's AWS CLI v2: another, older `aws` may come first on PATH
[[ -x $runnel && -f $library ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
[[ -x $aws ]] || { echo "install the AWS CLI v2: apt-get install awscli" >&2; exit 1; }
work=$(mktemp -d)
host=
cleanup() {
  if [[ -n $host ]]; then kill -INT "$host" 2>/dev/null || true; wait "$host" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Any credentials: a host without --credentials serves loopback only and
# does not check signatures. No user config is read.
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=

say() { printf '\n# %s\n' "$*"; }

say "Host a fresh DB: runnel run --listen 127.0.0.1:0 (Ctrl-C stops it cleanly)"
"$runnel" --db "$work/tutorial-db" run --listen 127.0.0.1:0 >"$work/host.out" &
host=$!
url=
for _ in $(seq 200); do
  url=$(grep -o 'http://[0-9.]*:[0-9]*' "$work/host.out" | head -1 || true)
  [[ -n $url ]] && break
  sleep 0.05
done
[[ -n $url ]] || { echo "the host did not start" >&2; exit 1; }
echo "endpoint: $url"
run() { printf '$ aws %s\n' "$*"; "$aws" --endpoint-url "$url" "$@"; }

say "Step 3.1: create a table with a stream enabled"
run dynamodb create-table --table-name Music \
  --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
  --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
  --billing-mode PAY_PER_REQUEST \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES
arn=$("$aws" --endpoint-url "$url" dynamodb describe-table --table-name Music \
  --query Table.LatestStreamArn --output text)
say "Write down the stream ARN: $arn"

say "The function: ProcessDynamoDBStream, a zip of examples/process_stream.so"
python3 -c 'import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[2], "process_stream.so")' "$work/function.zip" "$library"
run lambda create-function --function-name ProcessDynamoDBStream \
  --zip-file "fileb://$work/function.zip" --handler process_stream.so \
  --runtime provided.al2023 --role arn:aws:iam::000000000000:role/lambda-dynamodb-role

say "Step 3.2: add the event source; note down the UUID"
uuid=$("$aws" --endpoint-url "$url" lambda create-event-source-mapping \
  --function-name ProcessDynamoDBStream --event-source "$arn" --batch-size 100 \
  --starting-position TRIM_HORIZON --query UUID --output text)
say "UUID: $uuid"
run lambda list-event-source-mappings --function-name ProcessDynamoDBStream --event-source "$arn"

say "Step 3.3: add, update and delete an item"
key='{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}'
run dynamodb put-item --table-name Music \
  --item '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"},"AlbumTitle":{"S":"Somewhat Famous"}}'
run dynamodb update-item --table-name Music --key "$key" \
  --update-expression 'SET AlbumTitle = :a ADD Plays :one' \
  --expression-attribute-values '{":a":{"S":"Songs About Life"},":one":{"N":"1"}}' \
  --return-values ALL_NEW
run dynamodb delete-item --table-name Music --key "$key"

say "The function ran: its log in CloudWatch Logs"
for _ in $(seq 200); do
  "$aws" --endpoint-url "$url" logs filter-log-events \
    --log-group-name /aws/lambda/ProcessDynamoDBStream --query 'events[].message' \
    --output text | grep -q REMOVE && break
  sleep 0.05
done
run logs tail /aws/lambda/ProcessDynamoDBStream
run lambda get-event-source-mapping --uuid "$uuid" \
  --query '{UUID: UUID, State: State, LastProcessingResult: LastProcessingResult}'

say "The records, with DynamoDB Streams"
shard=$("$aws" --endpoint-url "$url" dynamodbstreams describe-stream --stream-arn "$arn" \
  --query 'StreamDescription.Shards[0].ShardId' --output text)
iterator=$("$aws" --endpoint-url "$url" dynamodbstreams get-shard-iterator --stream-arn "$arn" \
  --shard-id "$shard" --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
run dynamodbstreams get-records --shard-iterator "$iterator" \
  --query 'Records[].[eventName, dynamodb.Keys.SongTitle.S]' --output text

say "Stop the host"
kill -INT "$host"
wait "$host"
host=
echo "the host stopped cleanly"

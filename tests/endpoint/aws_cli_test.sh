#!/usr/bin/env bash
# The AWS CLI v2 (Debian's awscli, /usr/bin/aws), unmodified, against
# `runnel run --listen`: run through with_endpoint.py, which sets
# RUNNEL_ENDPOINT, RUNNEL_FUNCTION_ZIP and the credentials. Each step checks
# what the CLI printed, and for errors the error code the CLI names.
set -euo pipefail
aws() { /usr/bin/aws --endpoint-url "$RUNNEL_ENDPOINT" "$@"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
# expect_error CODE COMMAND...: the command fails and the CLI names CODE.
expect_error() {
  local code=$1 err
  shift
  if err=$("$@" 2>&1 >/dev/null); then fail "expected $code from: $*"; fi
  [[ $err == *"($code)"* ]] || fail "expected ($code) from: $*; got: $err"
}
# expect TEXT VALUE: VALUE contains TEXT.
expect() { [[ $2 == *"$1"* ]] || fail "expected '$1' in: $2"; }

aws dynamodb create-table --table-name Music \
  --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
  --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
  --billing-mode PAY_PER_REQUEST \
  --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
expect '"ACTIVE"' "$(aws dynamodb describe-table --table-name Music --query Table.TableStatus)"
expect Music "$(aws dynamodb list-tables --output text)"
expect_error ResourceInUseException aws dynamodb create-table --table-name Music \
  --attribute-definitions AttributeName=A,AttributeType=S --key-schema AttributeName=A,KeyType=HASH \
  --billing-mode PAY_PER_REQUEST
expect_error ResourceNotFoundException aws dynamodb describe-table --table-name Nope

item='{"Artist":{"S":"Acme"},"SongTitle":{"S":"Hit"},"Year":{"N":"2001"}}'
key='{"Artist":{"S":"Acme"},"SongTitle":{"S":"Hit"}}'
aws dynamodb put-item --table-name Music --item "$item"
expect_error ConditionalCheckFailedException aws dynamodb put-item --table-name Music \
  --item "$item" --condition-expression "attribute_not_exists(Artist)"
expect '2001' "$(aws dynamodb get-item --table-name Music --key "$key" --query Item.Year.N)"
expect '"Plays": {' "$(aws dynamodb update-item --table-name Music --key "$key" \
  --update-expression 'ADD Plays :one' --expression-attribute-values '{":one":{"N":"1"}}' \
  --return-values UPDATED_NEW)"
expect_error ValidationException aws dynamodb put-item --table-name Music \
  --item '{"Artist":{"S":"no sort key"}}'
expect_error ValidationException aws dynamodb query --table-name Music \
  --key-condition-expression "Artist = :a" --expression-attribute-values '{":a":{"S":"Acme"},":x":{"S":"unused"}}'

for i in 1 2 3 4 5; do
  aws dynamodb put-item --table-name Music \
    --item "{\"Artist\":{\"S\":\"Band\"},\"SongTitle\":{\"S\":\"Song $i\"},\"Year\":{\"N\":\"200$i\"}}"
done
# The CLI paginates by itself: --page-size 2 makes it follow LastEvaluatedKey.
out=$(aws dynamodb query --table-name Music --key-condition-expression "Artist = :a" \
  --expression-attribute-values '{":a":{"S":"Band"}}' --page-size 2 \
  --query 'Items[].SongTitle.S' --output text)
[[ $(echo $out) == "Song 1 Song 2 Song 3 Song 4 Song 5" ]] || fail "query pages: $out"
expect '3' "$(aws dynamodb scan --table-name Music --filter-expression '#y >= :y' \
  --expression-attribute-names '{"#y":"Year"}' --expression-attribute-values '{":y":{"N":"2003"}}' \
  --select COUNT --query Count)"
expect_error TransactionCanceledException aws dynamodb transact-write-items --transact-items \
  '[{"Put":{"TableName":"Music","Item":{"Artist":{"S":"Tx"},"SongTitle":{"S":"One"}}}},
    {"ConditionCheck":{"TableName":"Music","Key":'"$key"',"ConditionExpression":"Plays > :n",
     "ExpressionAttributeValues":{":n":{"N":"5"}}}}]'
[[ $(aws dynamodb get-item --table-name Music --key '{"Artist":{"S":"Tx"},"SongTitle":{"S":"One"}}') == "" ]] ||
  fail "a canceled transaction wrote"

arn=$(aws dynamodbstreams list-streams --table-name Music --query 'Streams[0].StreamArn' --output text)
expect ':table/Music/stream/' "$arn"
shard=$(aws dynamodbstreams describe-stream --stream-arn "$arn" \
  --query 'StreamDescription.Shards[0].ShardId' --output text)
it=$(aws dynamodbstreams get-shard-iterator --stream-arn "$arn" --shard-id "$shard" \
  --shard-iterator-type TRIM_HORIZON --query ShardIterator --output text)
events=$(aws dynamodbstreams get-records --shard-iterator "$it" --query 'Records[].eventName' --output text)
[[ $(echo $events) == "INSERT MODIFY INSERT INSERT INSERT INSERT INSERT" ]] || fail "records: $events"

aws lambda create-function --function-name ProcessDynamoDBStream \
  --zip-file "fileb://$RUNNEL_FUNCTION_ZIP" --handler process_stream.so \
  --runtime provided.al2023 --role arn:aws:iam::000000000000:role/r >/dev/null
expect 'ProcessDynamoDBStream' "$(aws lambda list-functions --query 'Functions[].FunctionName' --output text)"
expect_error ResourceNotFoundException aws lambda get-function --function-name Nope
expect_error ResourceConflictException aws lambda create-function --function-name ProcessDynamoDBStream \
  --zip-file "fileb://$RUNNEL_FUNCTION_ZIP" --handler process_stream.so \
  --runtime provided.al2023 --role arn:aws:iam::000000000000:role/r
uuid=$(aws lambda create-event-source-mapping --function-name ProcessDynamoDBStream \
  --event-source "$arn" --batch-size 100 --starting-position TRIM_HORIZON --query UUID --output text)
result=
for _ in $(seq 200); do
  result=$(aws lambda get-event-source-mapping --uuid "$uuid" --query LastProcessingResult --output text)
  [[ $result == OK ]] && break
  sleep 0.05
done
[[ $result == OK ]] || fail "LastProcessingResult: $result"
logs=$(aws logs filter-log-events --log-group-name /aws/lambda/ProcessDynamoDBStream \
  --query 'events[].message' --output text)
expect 'START RequestId:' "$logs"
expect 'INSERT DynamoDB Record:' "$logs"
expect 'REPORT RequestId:' "$logs"
expect_error ResourceNotFoundException aws logs filter-log-events --log-group-name /aws/lambda/Nope
echo "aws_cli_test: all passed"

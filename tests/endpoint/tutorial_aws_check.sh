#!/usr/bin/env bash
# Runs examples/tutorial-aws.sh (the seed's tutorial with the real AWS CLI)
# and checks what it printed: every step's result, as the cloud shows it.
#   tutorial_aws_check.sh TUTORIAL BUILD_DIR
set -euo pipefail
out=$(bash "$1" "$2" 2>&1) || { echo "$out"; echo "FAILED: the tutorial exited non-zero"; exit 1; }
echo "$out"
check() {
  grep -qE -- "$1" <<<"$out" || { echo "FAILED: the tutorial's output lacks: $1"; exit 1; }
}
check '"TableStatus": "ACTIVE"'
check 'Write down the stream ARN: arn:aws:dynamodb:us-east-1:[0-9]{12}:table/Music/stream/'
check '"FunctionArn": "arn:aws:lambda:us-east-1:[0-9]{12}:function:ProcessDynamoDBStream"'
check 'UUID: [0-9a-f-]{36}'
check '"LastProcessingResult": "No records processed"'
check '"AlbumTitle": \{'
check 'INSERT DynamoDB Record: '
check 'MODIFY DynamoDB Record: '
check 'REMOVE DynamoDB Record: '
check 'REPORT RequestId: '
check '"LastProcessingResult": "OK"'
check '^INSERT[[:space:]]+Call Me Today'
check '^MODIFY[[:space:]]+Call Me Today'
check '^REMOVE[[:space:]]+Call Me Today'
check 'the host stopped cleanly'
echo "tutorial_aws_check: all steps as expected"

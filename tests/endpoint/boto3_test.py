#!/usr/bin/env python3
# Copyright 2026 The runnel Authors.
"""boto3 (Debian's python3-boto3), unmodified, against `runnel run --listen`.

Run through with_endpoint.py --signed: the host verifies every request's
SigV4 signature against the credentials boto3 signs with, for DynamoDB,
Streams, Lambda and Logs alike. Covers the client and the resource APIs,
boto3's condition builders, streams, functions, mappings, invoke, logs, and
the error codes boto3 raises; and that a wrong secret is refused.
"""

import base64
import json
import os
import time
import unittest

import boto3
import botocore.config
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

URL = os.environ["RUNNEL_ENDPOINT"]
CONFIG = botocore.config.Config(retries={"max_attempts": 1})


def client(service, **kwargs):
    return boto3.client(service, endpoint_url=URL, config=CONFIG, **kwargs)


def code_of(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected a ClientError")


class Boto3Test(unittest.TestCase):
    maxDiff = None

    def test_1_tables_items_expressions(self):
        ddb = client("dynamodb")
        d = ddb.create_table(
            TableName="Music",
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                       {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                  {"AttributeName": "SongTitle", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.assertEqual(d["TableStatus"], "ACTIVE")
        self.assertRegex(d["LatestStreamArn"],
                         r"^arn:aws:dynamodb:us-east-1:\d{12}:table/Music/stream/")
        ddb.get_waiter("table_exists").wait(TableName="Music")

        table = boto3.resource("dynamodb", endpoint_url=URL, config=CONFIG).Table("Music")
        with table.batch_writer() as batch:
            for i in range(1, 31):
                batch.put_item(Item={"Artist": "Band", "SongTitle": "Song %02d" % i,
                                     "Year": 1990 + i, "Tags": {"live"} if i % 2 else {"studio"}})
        got = table.get_item(Key={"Artist": "Band", "SongTitle": "Song 07"})["Item"]
        self.assertEqual(got["Year"], 1997)
        self.assertEqual(got["Tags"], {"live"})

        page = table.query(KeyConditionExpression=Key("Artist").eq("Band") &
                           Key("SongTitle").between("Song 10", "Song 19"),
                           FilterExpression=Attr("Tags").contains("live"), Limit=5)
        self.assertEqual(page["ScannedCount"], 5)
        self.assertEqual([i["SongTitle"] for i in page["Items"]],
                         ["Song 11", "Song 13"])
        self.assertEqual(page["LastEvaluatedKey"], {"Artist": "Band", "SongTitle": "Song 14"})

        # The client paginator follows LastEvaluatedKey across pages.
        titles = []
        for p in ddb.get_paginator("scan").paginate(TableName="Music",
                                                    PaginationConfig={"PageSize": 7}):
            titles += [i["SongTitle"]["S"] for i in p["Items"]]
        self.assertEqual(len(titles), 30)

        table.update_item(Key={"Artist": "Band", "SongTitle": "Song 01"},
                          UpdateExpression="SET Plays = if_not_exists(Plays, :z) + :one",
                          ExpressionAttributeValues={":z": 0, ":one": 1})
        self.assertEqual(
            code_of(table.put_item, Item={"Artist": "Band", "SongTitle": "Song 01"},
                    ConditionExpression=Attr("Artist").not_exists()),
            "ConditionalCheckFailedException")
        self.assertEqual(
            code_of(table.put_item, Item={"Artist": "Band"}), "ValidationException")
        self.assertEqual(code_of(ddb.describe_table, TableName="Nope"),
                         "ResourceNotFoundException")
        try:
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "Music",
                         "Item": {"Artist": {"S": "Tx"}, "SongTitle": {"S": "One"}}}},
                {"ConditionCheck": {"TableName": "Music",
                                    "Key": {"Artist": {"S": "Band"}, "SongTitle": {"S": "Song 01"}},
                                    "ConditionExpression": "Plays > :n",
                                    "ExpressionAttributeValues": {":n": {"N": "5"}}}},
            ])
            self.fail("the transaction was not canceled")
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "TransactionCanceledException")
            self.assertEqual([r["Code"] for r in e.response["CancellationReasons"]],
                             ["None", "ConditionalCheckFailed"])
        self.assertNotIn("Item", table.get_item(Key={"Artist": "Tx", "SongTitle": "One"}))

    def test_2_streams_functions_mappings_logs(self):
        streams = client("dynamodbstreams")
        arn = streams.list_streams(TableName="Music")["Streams"][0]["StreamArn"]
        desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
        self.assertEqual(desc["KeySchema"], [{"AttributeName": "Artist", "KeyType": "HASH"},
                                             {"AttributeName": "SongTitle", "KeyType": "RANGE"}])
        it = streams.get_shard_iterator(StreamArn=arn, ShardId=desc["Shards"][0]["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = streams.get_records(ShardIterator=it, Limit=1000)["Records"]
        self.assertEqual(len(records), 31)  # 30 puts and the update
        self.assertEqual(records[0]["eventName"], "INSERT")
        self.assertEqual(records[-1]["eventName"], "MODIFY")
        self.assertEqual(records[-1]["dynamodb"]["NewImage"]["Plays"], {"N": "1"})

        lam = client("lambda")
        with open(os.environ["RUNNEL_FUNCTION_ZIP"], "rb") as f:
            zipped = f.read()
        fn = lam.create_function(FunctionName="ProcessDynamoDBStream", Runtime="provided.al2023",
                                 Role="arn:aws:iam::000000000000:role/r",
                                 Handler="process_stream.so", Code={"ZipFile": zipped})
        self.assertEqual(fn["CodeSize"], len(zipped))
        self.assertEqual(code_of(lam.get_function, FunctionName="Nope"),
                         "ResourceNotFoundException")
        out = lam.invoke(FunctionName="ProcessDynamoDBStream", LogType="Tail",
                         Payload=json.dumps({"Records": []}).encode())
        self.assertEqual(out["StatusCode"], 200)
        self.assertIn("REPORT RequestId:", base64.b64decode(out["LogResult"]).decode())
        uuid = lam.create_event_source_mapping(
            FunctionName="ProcessDynamoDBStream", EventSourceArn=arn, BatchSize=100,
            StartingPosition="TRIM_HORIZON")["UUID"]
        result = None
        for _ in range(200):
            result = lam.get_event_source_mapping(UUID=uuid).get("LastProcessingResult")
            if result == "OK":
                break
            time.sleep(0.05)
        self.assertEqual(result, "OK")

        logs = client("logs")
        text = ""
        for _ in range(100):
            events = logs.filter_log_events(logGroupName="/aws/lambda/ProcessDynamoDBStream")
            text = "\n".join(e["message"] for e in events["events"])
            if "INSERT DynamoDB Record" in text:
                break
            time.sleep(0.05)
        self.assertIn("INSERT DynamoDB Record:", text)
        self.assertEqual(code_of(logs.describe_log_streams, logGroupName="/aws/lambda/Nope"),
                         "ResourceNotFoundException")

    def test_3_a_wrong_secret_is_refused(self):
        bad = boto3.client("dynamodb", endpoint_url=URL, config=CONFIG,
                           aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key="not-the-secret")
        self.assertEqual(code_of(bad.list_tables), "InvalidSignatureException")
        unknown = boto3.client("lambda", endpoint_url=URL, config=CONFIG,
                               aws_access_key_id="AKIDUNKNOWN", aws_secret_access_key="x")
        self.assertEqual(code_of(unknown.list_functions), "UnrecognizedClientException")


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
# Copyright 2026 The runnel Authors.
#
# boto3 against runnel's DynamoDB endpoint: an unmodified client, its
# parameter validation, serializers, response parsers and error classes.
#
# Usage: boto3_dynamodb_test.py http://127.0.0.1:PORT
# Exits 0 when every check passes; prints the failed check otherwise.
# The endpoint must serve an empty DB (the tables below must not exist).

import sys
import time
import unittest
from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

ENDPOINT = None


def client():
    return boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def resource():
    return boto3.resource("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1",
                          aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def error_code(e):
    return e.response["Error"]["Code"]


class Boto3DynamoDB(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = client()
        cls.c.create_table(
            TableName="Music",
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                       {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                  {"AttributeName": "SongTitle", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        cls.c.get_waiter("table_exists").wait(TableName="Music",
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 10})

    def test_01_describe_and_list(self):
        t = self.c.describe_table(TableName="Music")["Table"]
        self.assertEqual(t["TableStatus"], "ACTIVE")
        self.assertEqual(t["KeySchema"][0], {"AttributeName": "Artist", "KeyType": "HASH"})
        # botocore parses the epoch seconds into a datetime.
        self.assertEqual(t["CreationDateTime"].year >= 2024, True)
        self.assertIn("LatestStreamArn", t)
        self.assertEqual(t["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertIn("Music", self.c.list_tables()["TableNames"])
        pages = list(self.c.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1}))
        self.assertIn("Music", [n for p in pages for n in p["TableNames"]])
        with self.assertRaises(self.c.exceptions.ResourceNotFoundException):
            self.c.describe_table(TableName="NoSuchTable")
        with self.assertRaises(self.c.exceptions.ResourceInUseException):
            self.c.create_table(
                TableName="Music", BillingMode="PAY_PER_REQUEST",
                KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}])

    def test_02_items(self):
        c = self.c
        c.put_item(TableName="Music", Item={
            "Artist": {"S": "Acme"}, "SongTitle": {"S": "Hit"}, "Year": {"N": "2001.0"},
            "Raw": {"B": b"\x00\x01"}, "Tags": {"SS": ["a", "b"]}})
        item = c.get_item(TableName="Music", Key={"Artist": {"S": "Acme"},
                                                  "SongTitle": {"S": "Hit"}})["Item"]
        self.assertEqual(item["Year"], {"N": "2001"})
        self.assertEqual(item["Raw"], {"B": b"\x00\x01"})
        self.assertEqual(sorted(item["Tags"]["SS"]), ["a", "b"])
        r = c.update_item(TableName="Music",
                          Key={"Artist": {"S": "Acme"}, "SongTitle": {"S": "Hit"}},
                          UpdateExpression="SET #y = #y + :one",
                          ExpressionAttributeNames={"#y": "Year"},
                          ExpressionAttributeValues={":one": {"N": "1"}},
                          ReturnValues="UPDATED_NEW")
        self.assertEqual(r["Attributes"], {"Year": {"N": "2002"}})
        self.assertNotIn("Item", c.get_item(TableName="Music", Key={
            "Artist": {"S": "x"}, "SongTitle": {"S": "y"}}))
        r = c.delete_item(TableName="Music",
                          Key={"Artist": {"S": "Acme"}, "SongTitle": {"S": "Hit"}},
                          ReturnValues="ALL_OLD")
        self.assertEqual(r["Attributes"]["Year"], {"N": "2002"})

    def test_03_conditional_failure(self):
        c = self.c
        key = {"Artist": {"S": "Cond"}, "SongTitle": {"S": "One"}}
        c.put_item(TableName="Music", Item=dict(key, Plays={"N": "5"}))
        # Debian's botocore (1.29) predates ReturnValuesOnConditionCheckFailure
        # (the JavaScript SDK test covers it): ask for the item where the
        # client's model knows the parameter.
        members = c.meta.service_model.operation_model("PutItem").input_shape.members
        all_old = "ReturnValuesOnConditionCheckFailure" in members
        extra = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"} if all_old else {}
        with self.assertRaises(c.exceptions.ConditionalCheckFailedException) as cm:
            c.put_item(TableName="Music", Item=key,
                       ConditionExpression="attribute_not_exists(Artist)", **extra)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Message"], "The conditional request failed")
        if all_old:
            self.assertEqual(err["Item"]["Plays"], {"N": "5"})
        with self.assertRaises(ClientError) as cm:
            c.put_item(TableName="Music", Item=key, ConditionExpression="")
        self.assertEqual(error_code(cm.exception), "ValidationException")

    def test_04_query_and_scan_paging(self):
        t = resource().Table("Music")
        with t.batch_writer() as w:
            for i in range(12):
                w.put_item(Item={"Artist": "Pager", "SongTitle": "S%02d" % i, "N": i})
        items, kwargs, pages = [], {}, 0
        while True:
            r = t.query(KeyConditionExpression=Key("Artist").eq("Pager"), Limit=5, **kwargs)
            items += r["Items"]
            pages += 1
            if "LastEvaluatedKey" not in r:
                break
            kwargs["ExclusiveStartKey"] = r["LastEvaluatedKey"]
        self.assertEqual([i["SongTitle"] for i in items], ["S%02d" % i for i in range(12)])
        self.assertEqual(items[3]["N"], Decimal(3))
        self.assertGreaterEqual(pages, 3)
        r = t.query(KeyConditionExpression=Key("Artist").eq("Pager"),
                    FilterExpression=Attr("N").gte(10), ScanIndexForward=False)
        self.assertEqual(r["Count"], 2)
        self.assertEqual(r["ScannedCount"], 12)
        self.assertEqual(r["Items"][0]["SongTitle"], "S11")
        seen = set()
        for seg in range(4):
            for page in self.c.get_paginator("scan").paginate(
                    TableName="Music", Segment=seg, TotalSegments=4,
                    FilterExpression="Artist = :a",
                    ExpressionAttributeValues={":a": {"S": "Pager"}},
                    PaginationConfig={"PageSize": 3}):
                for i in page["Items"]:
                    seen.add(i["SongTitle"]["S"])
        self.assertEqual(len(seen), 12)
        n = self.c.scan(TableName="Music", Select="COUNT")
        self.assertNotIn("Items", n)
        self.assertGreaterEqual(n["Count"], 12)

    def test_05_batches(self):
        c = self.c
        r = c.batch_write_item(RequestItems={"Music": [
            {"PutRequest": {"Item": {"Artist": {"S": "B"}, "SongTitle": {"S": str(i)}}}}
            for i in range(5)]})
        self.assertEqual(r["UnprocessedItems"], {})
        r = c.batch_get_item(RequestItems={"Music": {
            "Keys": [{"Artist": {"S": "B"}, "SongTitle": {"S": str(i)}} for i in range(7)],
            "ProjectionExpression": "SongTitle"}})
        self.assertEqual(r["UnprocessedKeys"], {})
        self.assertEqual(sorted(i["SongTitle"]["S"] for i in r["Responses"]["Music"]),
                         [str(i) for i in range(5)])

    def test_06_transactions(self):
        c = self.c
        c.put_item(TableName="Music", Item={"Artist": {"S": "T"}, "SongTitle": {"S": "a"},
                                            "V": {"N": "1"}})
        with self.assertRaises(c.exceptions.TransactionCanceledException) as cm:
            c.transact_write_items(TransactItems=[
                {"Put": {"TableName": "Music",
                         "Item": {"Artist": {"S": "T"}, "SongTitle": {"S": "b"}}}},
                {"ConditionCheck": {"TableName": "Music",
                                    "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "a"}},
                                    "ConditionExpression": "V = :two",
                                    "ExpressionAttributeValues": {":two": {"N": "2"}},
                                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}])
        reasons = cm.exception.response["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["None", "ConditionalCheckFailed"])
        self.assertEqual(reasons[1]["Item"]["V"], {"N": "1"})
        c.transact_write_items(ClientRequestToken="token-1", TransactItems=[
            {"Update": {"TableName": "Music",
                        "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "a"}},
                        "UpdateExpression": "SET V = V + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
        r = c.transact_get_items(TransactItems=[
            {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "a"}}}},
            {"Get": {"TableName": "Music", "Key": {"Artist": {"S": "T"}, "SongTitle": {"S": "b"}}}}])
        self.assertEqual(r["Responses"][0]["Item"]["V"], {"N": "2"})
        self.assertEqual(r["Responses"][1], {})

    def test_07_ttl_and_endpoints(self):
        c = self.c
        self.assertEqual(c.describe_time_to_live(TableName="Music")["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "DISABLED"})
        r = c.update_time_to_live(TableName="Music", TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "expires"})
        self.assertEqual(r["TimeToLiveSpecification"], {"Enabled": True,
                                                        "AttributeName": "expires"})
        self.assertEqual(c.describe_time_to_live(TableName="Music")["TimeToLiveDescription"],
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
        self.assertEqual(len(c.describe_endpoints()["Endpoints"]), 1)

    def test_08_legacy_parameters(self):
        c = self.c
        c.put_item(TableName="Music", Item={"Artist": {"S": "L"}, "SongTitle": {"S": "1"},
                                            "G": {"S": "rock"}},
                   Expected={"Artist": {"Exists": False}})
        with self.assertRaises(c.exceptions.ConditionalCheckFailedException):
            c.put_item(TableName="Music", Item={"Artist": {"S": "L"}, "SongTitle": {"S": "1"}},
                       Expected={"Artist": {"Exists": False}})
        r = c.get_item(TableName="Music", Key={"Artist": {"S": "L"}, "SongTitle": {"S": "1"}},
                       AttributesToGet=["G"])
        self.assertEqual(r["Item"], {"G": {"S": "rock"}})
        r = c.query(TableName="Music", KeyConditions={
            "Artist": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "L"}]}})
        self.assertEqual(r["Count"], 1)
        with self.assertRaises(ClientError) as cm:
            c.query(TableName="Music", KeyConditionExpression="Artist = :a",
                    ExpressionAttributeValues={":a": {"S": "L"}}, AttributesToGet=["G"])
        self.assertEqual(error_code(cm.exception), "ValidationException")

    def test_09_delete_table(self):
        c = self.c
        c.create_table(TableName="Doomed", BillingMode="PAY_PER_REQUEST",
                       KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                       AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "N"}])
        r = c.delete_table(TableName="Doomed")
        self.assertEqual(r["TableDescription"]["TableStatus"], "DELETING")
        c.get_waiter("table_not_exists").wait(TableName="Doomed",
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        with self.assertRaises(c.exceptions.ResourceNotFoundException):
            c.put_item(TableName="Doomed", Item={"k": {"N": "1"}})


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: boto3_dynamodb_test.py ENDPOINT_URL")
    ENDPOINT = sys.argv[1]
    start = time.time()
    result = unittest.main(argv=sys.argv[:1], exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)

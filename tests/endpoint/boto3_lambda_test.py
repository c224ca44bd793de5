#!/usr/bin/python3
# Copyright 2026 The runnel Authors.
#
# boto3 (Debian's python3-boto3) against a running `runnel run --listen`:
# Lambda functions from zips of the example plugins, invoke (RequestResponse,
# Event, DryRun, Tail, function errors), event source mappings on a DynamoDB
# stream fed by boto3's PutItem, and the functions' logs through CloudWatch
# Logs. Error cases assert the exception class botocore raises.
#
#   boto3_lambda_test.py ENDPOINT_URL PROCESS_STREAM_SO FAIL_ON_KEY_SO [--no-dynamodb]
#
# --no-dynamodb skips what needs the DynamoDB service (the mapping that
# processes items). Exit status 0 when every test passed.

import base64
import hashlib
import io
import json
import sys
import time
import unittest
import uuid
import zipfile

import boto3
import botocore.config

ENDPOINT = None
PROCESS_STREAM = None
FAIL_ON_KEY = None
WITH_DYNAMODB = True


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def zip_of(path, name):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        with open(path, "rb") as f:
            z.writestr(name, f.read())
    return buf.getvalue()


def unique(prefix):
    return prefix + uuid.uuid4().hex[:8]


class LambdaTest(unittest.TestCase):
    def setUp(self):
        self.lam = client("lambda")
        self.logs = client("logs")
        self.zip = zip_of(PROCESS_STREAM, "process_stream.so")
        self.created = []

    def tearDown(self):
        for name in self.created:
            try:
                self.lam.delete_function(FunctionName=name)
            except self.lam.exceptions.ResourceNotFoundException:
                pass

    def create(self, name=None, zip_bytes=None, handler="process_stream.so", **kw):
        name = name or unique("fn")
        out = self.lam.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Role="arn:aws:iam::000000000000:role/lambda-role",
            Handler=handler,
            Code={"ZipFile": zip_bytes or self.zip},
            **kw,
        )
        self.created.append(name)
        return out

    def test_function_lifecycle(self):
        out = self.create(Timeout=10, Environment={"Variables": {"A": "1"}})
        name = out["FunctionName"]
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(out["CodeSha256"], base64.b64encode(hashlib.sha256(self.zip).digest()).decode())
        self.assertEqual(out["CodeSize"], len(self.zip))
        self.assertEqual(out["Version"], "$LATEST")
        self.assertEqual(out["State"], "Active")
        self.assertEqual(out["PackageType"], "Zip")
        self.assertEqual(out["Environment"]["Variables"], {"A": "1"})
        self.assertRegex(out["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
        got = self.lam.get_function(FunctionName=name)
        self.assertEqual(got["Configuration"]["FunctionArn"], out["FunctionArn"])
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        # By ARN too.
        self.assertEqual(self.lam.get_function_configuration(FunctionName=out["FunctionArn"])["FunctionName"], name)
        names = [f["FunctionName"] for p in self.lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 1}) for f in p["Functions"]]
        self.assertIn(name, names)
        with self.assertRaises(self.lam.exceptions.ResourceConflictException):
            self.create(name=name)
        up = self.lam.update_function_configuration(FunctionName=name, Timeout=30, MemorySize=256)
        self.assertEqual((up["Timeout"], up["MemorySize"]), (30, 256))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            with open(PROCESS_STREAM, "rb") as f:
                z.writestr("process_stream.so", f.read())
            z.writestr("VERSION", "2")
        up = self.lam.update_function_code(FunctionName=name, ZipFile=buf.getvalue())
        self.assertNotEqual(up["CodeSha256"], out["CodeSha256"])
        self.lam.delete_function(FunctionName=name)
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_function(FunctionName=name)

    def test_bad_input(self):
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create(zip_bytes=b"not a zip")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create(handler="missing.so")
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException):
            self.create(Timeout=901)
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.invoke(FunctionName="no-such-function")

    def test_invoke(self):
        name = self.create()["FunctionName"]
        event = {"Records": [{"eventName": "INSERT", "dynamodb": {"Keys": {"key": {"S": "k1"}}, "SequenceNumber": "1"}}]}
        out = self.lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
        self.assertEqual(out["StatusCode"], 200)
        self.assertNotIn("FunctionError", out)
        self.assertEqual(out["ExecutedVersion"], "$LATEST")
        self.assertEqual(out["Payload"].read(), b"null")
        log = base64.b64decode(out["LogResult"]).decode()
        self.assertTrue(log.startswith("START RequestId: "), log)
        self.assertIn("INSERT key=k1", log)
        self.assertIn("REPORT RequestId: ", log)
        self.assertEqual(self.lam.invoke(FunctionName=name, InvocationType="Event")["StatusCode"], 202)
        self.assertEqual(self.lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"], 204)
        failing = self.create(zip_bytes=zip_of(FAIL_ON_KEY, "fail_on_key.so"), handler="fail_on_key.so", Environment={"Variables": {"FAIL_KEY": "k1"}})["FunctionName"]
        out = self.lam.invoke(FunctionName=failing, Payload=json.dumps(event))
        self.assertEqual(out["StatusCode"], 200)
        self.assertEqual(out["FunctionError"], "Unhandled")
        err = json.loads(out["Payload"].read())
        self.assertEqual(set(err), {"errorMessage", "errorType"})

    def test_logs(self):
        name = self.create()["FunctionName"]
        self.lam.invoke(FunctionName=name)
        group = "/aws/lambda/" + name
        groups = self.logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], [group])
        streams = self.logs.describe_log_streams(logGroupName=group, orderBy="LastEventTime", descending=True)["logStreams"]
        self.assertEqual(len(streams), 1)
        events = self.logs.get_log_events(logGroupName=group, logStreamName=streams[0]["logStreamName"], startFromHead=True)["events"]
        self.assertTrue(events[0]["message"].startswith("START RequestId: "))
        self.assertTrue(events[-1]["message"].startswith("REPORT RequestId: "))
        found = self.logs.filter_log_events(logGroupName=group, filterPattern="REPORT", interleaved=True)["events"]
        self.assertEqual(len(found), 1)
        with self.assertRaises(self.logs.exceptions.ResourceNotFoundException):
            self.logs.filter_log_events(logGroupName="/aws/lambda/no-such-function")

    def test_mapping_processes_items(self):
        if not WITH_DYNAMODB:
            self.skipTest("--no-dynamodb")
        ddb = client("dynamodb")
        table = unique("Music")
        desc = ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        name = self.create()["FunctionName"]
        m = self.lam.create_event_source_mapping(FunctionName=name, EventSourceArn=desc["LatestStreamArn"], BatchSize=100, StartingPosition="TRIM_HORIZON")
        self.assertEqual(m["ResponseMetadata"]["HTTPStatusCode"], 202)
        self.assertEqual(m["State"], "Creating")
        self.assertEqual(m["LastProcessingResult"], "No records processed")
        ddb.put_item(TableName=table, Item={"Artist": {"S": "No One You Know"}})
        deadline = time.time() + 20
        while time.time() < deadline:
            got = self.lam.get_event_source_mapping(UUID=m["UUID"])
            if got["LastProcessingResult"] == "OK":
                break
            time.sleep(0.1)
        self.assertEqual(got["LastProcessingResult"], "OK")
        msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="/aws/lambda/" + name)["events"]]
        self.assertTrue(any(s.startswith("START") for s in msgs), msgs)
        self.assertTrue(any("INSERT" in s for s in msgs), msgs)
        listed = self.lam.list_event_source_mappings(FunctionName=name)["EventSourceMappings"]
        self.assertEqual([x["UUID"] for x in listed], [m["UUID"]])
        self.assertEqual(self.lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=5)["State"], "Updating")
        self.assertEqual(self.lam.delete_event_source_mapping(UUID=m["UUID"])["State"], "Deleting")
        with self.assertRaises(self.lam.exceptions.ResourceNotFoundException):
            self.lam.get_event_source_mapping(UUID=m["UUID"])

    def test_mapping_filter_criteria(self):
        if not WITH_DYNAMODB:
            self.skipTest("--no-dynamodb")
        ddb = client("dynamodb")
        table = unique("Plays")
        desc = ddb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        name = self.create()["FunctionName"]
        pattern = '{"dynamodb":{"NewImage":{"Plays":{"N":[{"numeric":[">",100]}]}}}}'
        with self.assertRaises(self.lam.exceptions.InvalidParameterValueException) as bad:
            self.lam.create_event_source_mapping(
                FunctionName=name, EventSourceArn=desc["LatestStreamArn"], StartingPosition="TRIM_HORIZON",
                FilterCriteria={"Filters": [{"Pattern": '{"eventName":"INSERT"}'}]})
        self.assertIn("key eventName", str(bad.exception))
        m = self.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=desc["LatestStreamArn"], StartingPosition="TRIM_HORIZON",
            FilterCriteria={"Filters": [{"Pattern": pattern}]})
        self.assertEqual(m["FilterCriteria"], {"Filters": [{"Pattern": pattern}]})
        ddb.put_item(TableName=table, Item={"Artist": {"S": "Small One"}, "Plays": {"N": "5"}})
        ddb.put_item(TableName=table, Item={"Artist": {"S": "Big One"}, "Plays": {"N": "500"}})
        deadline = time.time() + 20
        msgs = []
        while time.time() < deadline:
            msgs = [e["message"] for e in self.logs.filter_log_events(logGroupName="/aws/lambda/" + name)["events"]]
            if any("Big One" in s for s in msgs):
                break
            time.sleep(0.1)
        self.assertTrue(any("Big One" in s for s in msgs), msgs)
        self.assertFalse(any("Small One" in s for s in msgs), msgs)
        got = self.lam.update_event_source_mapping(UUID=m["UUID"], FilterCriteria={"Filters": []})
        self.assertNotIn("FilterCriteria", got)
        self.lam.delete_event_source_mapping(UUID=m["UUID"])


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3:
        sys.exit(__doc__ or "usage: boto3_lambda_test.py ENDPOINT_URL PROCESS_STREAM_SO FAIL_ON_KEY_SO [--no-dynamodb]")
    ENDPOINT, PROCESS_STREAM, FAIL_ON_KEY = args
    WITH_DYNAMODB = "--no-dynamodb" not in sys.argv
    unittest.main(argv=[sys.argv[0], "-v"])

// Copyright 2026 The runnel Authors.
//
// The AWS SDK for JavaScript v3, unmodified, against `runnel run --listen`
// (started by with_endpoint.py, which sets RUNNEL_ENDPOINT and the
// credentials): tables, items, expressions, transactions, the document
// client, streams, functions, mappings, invoke and logs, including the error
// classes the SDK raises.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, ListTablesCommand,
  PutItemCommand, GetItemCommand, UpdateItemCommand, DeleteItemCommand, QueryCommand,
  ScanCommand, BatchWriteItemCommand, BatchGetItemCommand, TransactWriteItemsCommand,
  TransactGetItemsCommand, DeleteTableCommand,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand, GetCommand, QueryCommand as DocQuery }
  from "@aws-sdk/lib-dynamodb";
import {
  DynamoDBStreamsClient, ListStreamsCommand, DescribeStreamCommand, GetShardIteratorCommand,
  GetRecordsCommand,
} from "@aws-sdk/client-dynamodb-streams";
import {
  LambdaClient, CreateFunctionCommand, GetFunctionCommand, ListFunctionsCommand,
  InvokeCommand, CreateEventSourceMappingCommand, ListEventSourceMappingsCommand,
  GetEventSourceMappingCommand, DeleteFunctionCommand,
} from "@aws-sdk/client-lambda";
import {
  CloudWatchLogsClient, DescribeLogGroupsCommand, DescribeLogStreamsCommand,
  GetLogEventsCommand, FilterLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";

const endpoint = process.env.RUNNEL_ENDPOINT;
assert.ok(endpoint, "RUNNEL_ENDPOINT is not set: run me through with_endpoint.py");
const config = { endpoint, region: "us-east-1", maxAttempts: 1 };
const ddb = new DynamoDBClient(config);
const doc = DynamoDBDocumentClient.from(ddb);
const streams = new DynamoDBStreamsClient(config);
const lambda = new LambdaClient(config);
const logs = new CloudWatchLogsClient(config);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The error the SDK raises for `promise`: its class name is the cloud's.
async function errorOf(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

const song = (artist, title, year) => ({
  Artist: { S: artist }, SongTitle: { S: title }, Year: { N: String(year) },
});

test("tables, items, expressions, transactions, document client, streams, functions, logs",
  async (t) => {
    let streamArn;
    await t.test("CreateTable with a stream, DescribeTable, ListTables", async () => {
      const created = await ddb.send(new CreateTableCommand({
        TableName: "Music",
        KeySchema: [{ AttributeName: "Artist", KeyType: "HASH" },
          { AttributeName: "SongTitle", KeyType: "RANGE" }],
        AttributeDefinitions: [{ AttributeName: "Artist", AttributeType: "S" },
          { AttributeName: "SongTitle", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
        StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
      }));
      const d = created.TableDescription;
      assert.equal(d.TableName, "Music");
      assert.equal(d.TableStatus, "ACTIVE");
      assert.match(d.TableArn, /^arn:aws:dynamodb:us-east-1:\d{12}:table\/Music$/);
      assert.match(d.LatestStreamArn, /^arn:aws:dynamodb:us-east-1:\d{12}:table\/Music\/stream\//);
      assert.deepEqual(d.StreamSpecification,
        { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" });
      streamArn = d.LatestStreamArn;
      const described = await ddb.send(new DescribeTableCommand({ TableName: "Music" }));
      assert.deepEqual(described.Table.KeySchema, d.KeySchema);
      assert.ok(described.Table.CreationDateTime instanceof Date);
      const listed = await ddb.send(new ListTablesCommand({}));
      assert.deepEqual(listed.TableNames, ["Music"]);
      const e = await errorOf(ddb.send(new DescribeTableCommand({ TableName: "Nope" })));
      assert.equal(e.name, "ResourceNotFoundException");
      const dup = await errorOf(ddb.send(new CreateTableCommand({
        TableName: "Music", KeySchema: [{ AttributeName: "a", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "a", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
      })));
      assert.equal(dup.name, "ResourceInUseException");
    });

    await t.test("PutItem, GetItem, conditions, UpdateItem, DeleteItem", async () => {
      await ddb.send(new PutItemCommand({ TableName: "Music", Item: song("Acme", "Hit", 2001) }));
      const got = await ddb.send(new GetItemCommand({
        TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } },
      }));
      assert.deepEqual(got.Item, song("Acme", "Hit", 2001));
      const failed = await errorOf(ddb.send(new PutItemCommand({
        TableName: "Music", Item: song("Acme", "Hit", 1999),
        ConditionExpression: "attribute_not_exists(Artist)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      })));
      assert.equal(failed.name, "ConditionalCheckFailedException");
      assert.deepEqual(failed.Item, song("Acme", "Hit", 2001));
      const updated = await ddb.send(new UpdateItemCommand({
        TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } },
        UpdateExpression: "SET Plays = if_not_exists(Plays, :zero) + :one",
        ExpressionAttributeValues: { ":zero": { N: "0" }, ":one": { N: "1" } },
        ReturnValues: "UPDATED_NEW",
      }));
      assert.deepEqual(updated.Attributes, { Plays: { N: "1" } });
      const bad = await errorOf(ddb.send(new PutItemCommand({
        TableName: "Music", Item: { Artist: { S: "no sort key" } },
      })));
      assert.equal(bad.name, "ValidationException");
      const unused = await errorOf(ddb.send(new GetItemCommand({
        TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } },
        ProjectionExpression: "Artist", ExpressionAttributeNames: { "#unused": "x" },
      })));
      assert.equal(unused.name, "ValidationException");
    });

    await t.test("Query and Scan with pages, BatchWriteItem, BatchGetItem", async () => {
      const puts = [];
      for (let i = 1; i <= 10; i++) {
        puts.push({ PutRequest: { Item: song("Band", `Song ${String(i).padStart(2, "0")}`, 2000 + i) } });
      }
      const written = await ddb.send(new BatchWriteItemCommand({ RequestItems: { Music: puts } }));
      assert.deepEqual(written.UnprocessedItems, {});
      const titles = [];
      let start;
      let pages = 0;
      do {
        const page = await ddb.send(new QueryCommand({
          TableName: "Music", KeyConditionExpression: "Artist = :a AND SongTitle > :t",
          ExpressionAttributeValues: { ":a": { S: "Band" }, ":t": { S: "Song 02" } },
          Limit: 3, ExclusiveStartKey: start, ScanIndexForward: false,
        }));
        titles.push(...page.Items.map((i) => i.SongTitle.S));
        start = page.LastEvaluatedKey;
        pages++;
      } while (start);
      assert.equal(pages, 3);
      assert.deepEqual(titles, ["Song 10", "Song 09", "Song 08", "Song 07", "Song 06", "Song 05",
        "Song 04", "Song 03"]);
      const counted = await ddb.send(new ScanCommand({
        TableName: "Music", Select: "COUNT", FilterExpression: "#y >= :y",
        ExpressionAttributeNames: { "#y": "Year" }, ExpressionAttributeValues: { ":y": { N: "2005" } },
      }));
      assert.equal(counted.Count, 6);
      assert.equal(counted.ScannedCount, 11);
      const batch = await ddb.send(new BatchGetItemCommand({
        RequestItems: {
          Music: {
            Keys: [{ Artist: { S: "Band" }, SongTitle: { S: "Song 01" } },
              { Artist: { S: "Nobody" }, SongTitle: { S: "Nothing" } }],
            ProjectionExpression: "SongTitle",
          },
        },
      }));
      assert.deepEqual(batch.Responses.Music, [{ SongTitle: { S: "Song 01" } }]);
    });

    await t.test("TransactWriteItems: all or nothing, CancellationReasons", async () => {
      const canceled = await errorOf(ddb.send(new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: "Music", Item: song("Tx", "One", 2020) } },
          {
            ConditionCheck: {
              TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } },
              ConditionExpression: "Plays > :n", ExpressionAttributeValues: { ":n": { N: "5" } },
            },
          },
        ],
      })));
      assert.equal(canceled.name, "TransactionCanceledException");
      assert.deepEqual(canceled.CancellationReasons.map((r) => r.Code),
        ["None", "ConditionalCheckFailed"]);
      const none = await ddb.send(new GetItemCommand({
        TableName: "Music", Key: { Artist: { S: "Tx" }, SongTitle: { S: "One" } },
      }));
      assert.equal(none.Item, undefined);
      await ddb.send(new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: "Music", Item: song("Tx", "One", 2020) } },
          {
            Update: {
              TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } },
              UpdateExpression: "ADD Plays :n", ExpressionAttributeValues: { ":n": { N: "10" } },
            },
          },
        ],
      }));
      const both = await ddb.send(new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: "Music", Key: { Artist: { S: "Tx" }, SongTitle: { S: "One" } } } },
          { Get: { TableName: "Music", Key: { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } } } },
        ],
      }));
      assert.equal(both.Responses[0].Item.Year.N, "2020");
      assert.equal(both.Responses[1].Item.Plays.N, "11");
    });

    await t.test("the document client (lib-dynamodb) with native values", async () => {
      await doc.send(new PutCommand({
        TableName: "Music",
        Item: { Artist: "Doc", SongTitle: "Native", Year: 2024, Tags: new Set(["a", "b"]),
          Meta: { live: true, takes: [1, 2.5] } },
      }));
      const got = await doc.send(new GetCommand({
        TableName: "Music", Key: { Artist: "Doc", SongTitle: "Native" },
      }));
      assert.equal(got.Item.Year, 2024);
      assert.deepEqual([...got.Item.Tags].sort(), ["a", "b"]);
      assert.deepEqual(got.Item.Meta, { live: true, takes: [1, 2.5] });
      const q = await doc.send(new DocQuery({
        TableName: "Music", KeyConditionExpression: "Artist = :a",
        ExpressionAttributeValues: { ":a": "Doc" },
      }));
      assert.equal(q.Count, 1);
    });

    await t.test("DynamoDB Streams: the records of every write", async () => {
      const listed = await streams.send(new ListStreamsCommand({ TableName: "Music" }));
      assert.equal(listed.Streams.length, 1);
      assert.equal(listed.Streams[0].StreamArn, streamArn);
      const d = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
      assert.equal(d.StreamDescription.StreamViewType, "NEW_AND_OLD_IMAGES");
      assert.deepEqual(d.StreamDescription.KeySchema, [
        { AttributeName: "Artist", KeyType: "HASH" },
        { AttributeName: "SongTitle", KeyType: "RANGE" }]);
      const shard = d.StreamDescription.Shards[0].ShardId;
      const it = await streams.send(new GetShardIteratorCommand({
        StreamArn: streamArn, ShardId: shard, ShardIteratorType: "TRIM_HORIZON",
      }));
      const got = await streams.send(new GetRecordsCommand({
        ShardIterator: it.ShardIterator, Limit: 1000,
      }));
      const first = got.Records[0];
      assert.equal(first.eventName, "INSERT");
      assert.equal(first.eventSource, "aws:dynamodb");
      assert.deepEqual(first.dynamodb.Keys, { Artist: { S: "Acme" }, SongTitle: { S: "Hit" } });
      assert.deepEqual(first.dynamodb.NewImage, song("Acme", "Hit", 2001));
      assert.ok(first.dynamodb.ApproximateCreationDateTime instanceof Date);
      const modify = got.Records[1];
      assert.equal(modify.eventName, "MODIFY");
      assert.deepEqual(modify.dynamodb.OldImage, song("Acme", "Hit", 2001));
      assert.equal(modify.dynamodb.NewImage.Plays.N, "1");
      assert.ok(got.NextShardIterator);
      const expired = await errorOf(streams.send(new GetRecordsCommand({ ShardIterator: "garbage" })));
      assert.ok(["ValidationException", "ExpiredIteratorException"].includes(expired.name),
        expired.name);
    });

    await t.test("Lambda: a function from a zip, invoke with its log, a mapping", async () => {
      const zip = readFileSync(process.env.RUNNEL_FUNCTION_ZIP);
      const created = await lambda.send(new CreateFunctionCommand({
        FunctionName: "ProcessDynamoDBStream", Runtime: "provided.al2023",
        Role: "arn:aws:iam::000000000000:role/lambda-dynamodb-role",
        Handler: "process_stream.so", Code: { ZipFile: zip },
      }));
      assert.equal(created.FunctionName, "ProcessDynamoDBStream");
      assert.match(created.FunctionArn,
        /^arn:aws:lambda:us-east-1:\d{12}:function:ProcessDynamoDBStream$/);
      assert.equal(created.CodeSize, zip.length);
      assert.equal(created.State, "Active");
      const fn = await lambda.send(new GetFunctionCommand({ FunctionName: "ProcessDynamoDBStream" }));
      assert.equal(fn.Configuration.CodeSha256, created.CodeSha256);
      const listed = await lambda.send(new ListFunctionsCommand({}));
      assert.deepEqual(listed.Functions.map((f) => f.FunctionName), ["ProcessDynamoDBStream"]);
      const missing = await errorOf(lambda.send(new GetFunctionCommand({ FunctionName: "Nope" })));
      assert.equal(missing.name, "ResourceNotFoundException");

      const invoked = await lambda.send(new InvokeCommand({
        FunctionName: "ProcessDynamoDBStream", LogType: "Tail",
        Payload: Buffer.from(JSON.stringify({ Records: [] })),
      }));
      assert.equal(invoked.StatusCode, 200);
      assert.equal(invoked.FunctionError, undefined);
      const tail = Buffer.from(invoked.LogResult, "base64").toString();
      assert.match(tail, /START RequestId: /);
      assert.match(tail, /REPORT RequestId: /);

      const mapping = await lambda.send(new CreateEventSourceMappingCommand({
        FunctionName: "ProcessDynamoDBStream", EventSourceArn: streamArn, BatchSize: 100,
        StartingPosition: "TRIM_HORIZON",
      }));
      assert.match(mapping.UUID, /^[0-9a-f-]{36}$/);
      assert.equal(mapping.BatchSize, 100);
      assert.equal(mapping.EventSourceArn, streamArn);
      const mappings = await lambda.send(new ListEventSourceMappingsCommand({
        FunctionName: "ProcessDynamoDBStream",
      }));
      assert.equal(mappings.EventSourceMappings.length, 1);
      let last;
      for (let i = 0; i < 100; i++) {
        const m = await lambda.send(new GetEventSourceMappingCommand({ UUID: mapping.UUID }));
        last = m.LastProcessingResult;
        if (last === "OK") break;
        await sleep(100);
      }
      assert.equal(last, "OK");
    });

    await t.test("CloudWatch Logs: the function's START/END/REPORT and its records", async () => {
      const group = "/aws/lambda/ProcessDynamoDBStream";
      const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "/aws/lambda/" }));
      assert.deepEqual(groups.logGroups.map((g) => g.logGroupName), [group]);
      const s = await logs.send(new DescribeLogStreamsCommand({ logGroupName: group }));
      assert.ok(s.logStreams.length >= 1);
      let text = "";
      for (let i = 0; i < 50 && !text.includes("INSERT DynamoDB Record"); i++) {
        const filtered = await logs.send(new FilterLogEventsCommand({ logGroupName: group }));
        text = filtered.events.map((e) => e.message).join("\n");
        if (!text.includes("INSERT DynamoDB Record")) await sleep(100);
      }
      assert.match(text, /INSERT DynamoDB Record: /);
      assert.match(text, /END RequestId: /);
      const events = await logs.send(new GetLogEventsCommand({
        logGroupName: group, logStreamName: s.logStreams[0].logStreamName, startFromHead: true,
      }));
      assert.ok(events.events.length > 0);
      assert.match(events.events[0].message, /START RequestId: /);
      const missing = await errorOf(logs.send(new DescribeLogStreamsCommand({
        logGroupName: "/aws/lambda/Nope",
      })));
      assert.equal(missing.name, "ResourceNotFoundException");
    });

    await t.test("DeleteItem ALL_OLD, DeleteFunction, DeleteTable", async () => {
      const deleted = await ddb.send(new DeleteItemCommand({
        TableName: "Music", Key: { Artist: { S: "Tx" }, SongTitle: { S: "One" } },
        ReturnValues: "ALL_OLD",
      }));
      assert.deepEqual(deleted.Attributes, song("Tx", "One", 2020));
      const e = await errorOf(lambda.send(new DeleteFunctionCommand({ FunctionName: "Nope" })));
      assert.equal(e.name, "ResourceNotFoundException");
      await ddb.send(new DeleteTableCommand({ TableName: "Music" }));
      const gone = await errorOf(ddb.send(new DescribeTableCommand({ TableName: "Music" })));
      assert.equal(gone.name, "ResourceNotFoundException");
    });
  });

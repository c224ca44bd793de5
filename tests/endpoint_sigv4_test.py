#!/usr/bin/env python3
# Copyright 2026 The runnel Authors.
"""SigV4 on the AWS endpoint, with real signers: botocore (boto3) and the AWS
CLI v2 (/usr/bin/aws) sign requests to a real `runnel run --listen
127.0.0.1:0 --credentials FILE`; the client-side error codes are asserted.

A request whose signature is accepted reaches Dispatch: whatever it answers
(a result, or an error of the service such as UnknownOperationException for
an operation not served yet), it is not an auth error.

Usage: endpoint_sigv4_test.py RUNNEL_BIN
"""

import contextlib
import datetime
import http.client
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import types
import unittest
from unittest import mock

import boto3
import botocore.auth
from botocore import UNSIGNED
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

RUNNEL = None
AWS_CLI = "/usr/bin/aws"
AUTH_ERRORS = {
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignatureException",
}
KEY1, SECRET1 = "AKIDRUNNELTEST1", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
KEY2, SECRET2 = "AKIDRUNNELTEST2", "second/secret+key"


class Host:
    """`runnel --db DIR run --listen 127.0.0.1:0 ARGS...` in a child process."""

    def __init__(self, tmp, args, env=None):
        db = os.path.join(tmp, "db")
        subprocess.run([RUNNEL, "--db", db, "create-table", "--table-name", "Seed"],
                       check=True, capture_output=True)
        self.err = open(os.path.join(tmp, "host.err"), "w+")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [RUNNEL, "--db", db, "run", "--listen", "127.0.0.1:0"] + args,
            stdout=subprocess.PIPE, stderr=self.err, env=full_env, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on http://127.0.0.1:"):
            self.stop()
            raise RuntimeError("the host did not start: %r\n%s" % (line, self.stderr()))
        self.url = line[len("listening on "):]
        self.port = int(self.url.rsplit(":", 1)[1])

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.err.close()
        return self.proc.returncode


def frozen_clock(when):
    """Makes botocore sign as if it were `when` (UTC), whichever signer it
    uses: its own SigV4Auth, or the CRT's (botocore.crt.auth, used for v4
    when awscrt is installed)."""
    stack = contextlib.ExitStack()
    if hasattr(botocore.auth, "get_current_datetime"):  # botocore >= 1.32
        stack.enter_context(
            mock.patch.object(botocore.auth, "get_current_datetime", return_value=when))

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when.replace(tzinfo=tz) if tz else when

    fake = types.ModuleType("datetime")
    fake.__dict__.update(datetime.__dict__)
    fake.datetime = Frozen
    modules = [botocore.auth]
    try:
        modules.append(importlib.import_module("botocore.crt.auth"))
    except ImportError:
        pass
    for m in modules:
        if hasattr(m, "datetime"):
            stack.enter_context(mock.patch.object(m, "datetime", fake))
    return stack


def client(service, url, key=KEY1, secret=SECRET1, region="us-east-1", **config):
    return boto3.client(
        service, endpoint_url=url, region_name=region, aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config))


def error_code(call):
    """The ClientError code of call(), or None if it succeeded."""
    try:
        call()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"]


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response
    raise AssertionError("the call succeeded")


def raw_signed(port, key, secret, *, method="POST", path="/", query="",
               headers=None, body=b"", service="dynamodb", region="us-east-1",
               when=None, unsigned_payload=False, tamper_body=None):
    """Signs with botocore's SigV4Auth and sends with http.client; returns
    (status, lower-case headers, body bytes)."""
    url = "http://127.0.0.1:%d%s%s" % (port, path, "?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))

    class Signer(botocore.auth.SigV4Auth):
        def _should_sha256_sign_payload(self, request):
            return not unsigned_payload

    if unsigned_payload:
        req.headers["X-Amz-Content-SHA256"] = "UNSIGNED-PAYLOAD"
    signer = Signer(Credentials(key, secret), service, region)
    if when is None:
        signer.add_auth(req)
    else:
        with frozen_clock(when):
            signer.add_auth(req)
    prepared = req.prepare()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    data = tamper_body if tamper_body is not None else prepared.body
    conn.request(method, path + ("?" + query if query else ""), body=data,
                 headers=dict(prepared.headers))
    resp = conn.getresponse()
    out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    conn.close()
    return out


def json_type(body):
    """The error type of a JSON 1.0 body; None for a success."""
    t = json.loads(body).get("__type")
    return None if t is None else t.split("#")[-1]


DDB = {"Content-Type": "application/x-amz-json-1.0",
       "X-Amz-Target": "DynamoDB_20120810.ListTables"}


class EndpointSigV4(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="runnel-sigv4-")
        creds = os.path.join(cls.tmp, "credentials")
        with open(creds, "w") as f:
            f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                    "[second]\naws_access_key_id=%s\naws_secret_access_key=%s\n"
                    % (KEY1, SECRET1, KEY2, SECRET2))
        cls.host = Host(cls.tmp, ["--credentials", creds])
        cls.url = cls.host.url

    @classmethod
    def tearDownClass(cls):
        status = cls.host.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert status == 0, "the host exited %s" % status

    def test_good_signatures_reach_every_service(self):
        calls = [
            lambda: client("dynamodb", self.url).list_tables(),
            lambda: client("dynamodb", self.url, KEY2, SECRET2).describe_table(TableName="Seed"),
            lambda: client("dynamodbstreams", self.url).list_streams(),
            lambda: client("lambda", self.url).list_functions(),
            # A path with percent-encoded characters, signed encoded twice.
            lambda: client("lambda", self.url).get_function(
                FunctionName="arn:aws:lambda:us-east-1:000000000000:function:Fn"),
            lambda: client("logs", self.url).describe_log_groups(),
        ]
        for call in calls:
            self.assertNotIn(error_code(call), AUTH_ERRORS)

    def test_wrong_secret_is_invalid_signature(self):
        e = error_of(lambda: client("dynamodb", self.url, secret="wrong").list_tables())
        self.assertEqual(e["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertTrue(e["Error"]["Message"].startswith(
            "The request signature we calculated does not match the signature you provided."))
        self.assertRegex(e["ResponseMetadata"]["RequestId"], "^[0-9a-f-]{36}$")
        e = error_of(lambda: client("lambda", self.url, secret="wrong").list_functions())
        self.assertEqual(e["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 403)
        # A second profile's key with the first's secret.
        self.assertEqual(error_code(lambda: client("dynamodb", self.url, KEY2, SECRET1)
                                    .list_tables()), "InvalidSignatureException")

    def test_unknown_key_is_unrecognized_client(self):
        e = error_of(lambda: client("dynamodb", self.url, key="AKIDNOBODY").list_tables())
        self.assertEqual(e["Error"]["Code"], "UnrecognizedClientException")
        self.assertEqual(e["Error"]["Message"],
                         "The security token included in the request is invalid.")
        self.assertEqual(error_code(lambda: client("logs", self.url, key="AKIDNOBODY")
                                    .describe_log_groups()), "UnrecognizedClientException")

    def test_unsigned_is_missing_authentication_token(self):
        e = error_of(lambda: client("dynamodb", self.url, signature_version=UNSIGNED)
                     .list_tables())
        self.assertEqual(e["Error"]["Code"], "MissingAuthenticationTokenException")
        self.assertEqual(e["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(error_code(lambda: client("lambda", self.url, signature_version=UNSIGNED)
                                    .list_functions()), "MissingAuthenticationTokenException")

    def test_stale_and_future_dates_are_refused(self):
        now = datetime.datetime.utcnow()
        for delta, start in ((-20, "Signature expired: "), (20, "Signature not yet current: ")):
            status, _, body = raw_signed(self.host.port, KEY1, SECRET1, headers=DDB, body=b"{}",
                                         when=now + datetime.timedelta(minutes=delta))
            self.assertEqual(status, 400)
            self.assertEqual(json_type(body), "InvalidSignatureException")
            self.assertTrue(json.loads(body)["message"].startswith(start), body)
        # 10 minutes off is within the cloud's 15.
        status, _, body = raw_signed(self.host.port, KEY1, SECRET1, headers=DDB, body=b"{}",
                                     when=now - datetime.timedelta(minutes=10))
        self.assertNotIn(json_type(body), AUTH_ERRORS)
        # Through boto3: the same refusal as a client error.
        with frozen_clock(now - datetime.timedelta(hours=1)):
            e = error_of(lambda: client("dynamodb", self.url).list_tables())
        self.assertEqual(e["Error"]["Code"], "InvalidSignatureException")
        self.assertIn("Signature expired", e["Error"]["Message"])

    def test_payload_hash(self):
        # UNSIGNED-PAYLOAD is accepted as the payload hash.
        status, headers, body = raw_signed(self.host.port, KEY1, SECRET1, headers=DDB,
                                           body=b"{}", unsigned_payload=True)
        self.assertNotIn(json_type(body), AUTH_ERRORS)
        self.assertEqual(headers["x-amz-crc32"],
                         str(__import__("zlib").crc32(body)))
        # A body changed after signing is not.
        status, _, body = raw_signed(self.host.port, KEY1, SECRET1, headers=DDB,
                                     body=b'{"Limit":1}', tamper_body=b'{"Limit":2}')
        self.assertEqual((status, json_type(body)), (400, "InvalidSignatureException"))

    def test_scope_must_name_the_region_and_service(self):
        self.assertEqual(error_code(lambda: client("dynamodb", self.url, region="eu-west-1")
                                    .list_tables()), "InvalidSignatureException")
        status, _, body = raw_signed(self.host.port, KEY1, SECRET1, headers=DDB, body=b"{}",
                                     service="lambda")
        self.assertEqual((status, json_type(body)), (400, "InvalidSignatureException"))
        self.assertIn("correct service: 'dynamodb'", json.loads(body)["message"])

    def test_aws_cli(self):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY1, AWS_SECRET_ACCESS_KEY=SECRET1,
                   AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_EC2_METADATA_DISABLED="true",
                   AWS_PAGER="", AWS_MAX_ATTEMPTS="1")

        def aws(*args, **overrides):
            return subprocess.run([AWS_CLI, "--endpoint-url", self.url] + list(args),
                                  env=dict(env, **overrides), capture_output=True, text=True,
                                  timeout=120)

        for args in (["dynamodb", "list-tables"], ["lambda", "list-functions"],
                     ["dynamodbstreams", "list-streams"]):
            r = aws(*args)
            for e in AUTH_ERRORS:
                self.assertNotIn(e, r.stderr)
        r = aws("dynamodb", "list-tables", AWS_SECRET_ACCESS_KEY="wrong")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(InvalidSignatureException)", r.stderr)
        r = aws("dynamodb", "list-tables", AWS_ACCESS_KEY_ID="AKIDNOBODY")
        self.assertIn("(UnrecognizedClientException)", r.stderr)
        r = aws("dynamodb", "list-tables", "--no-sign-request")
        self.assertIn("(MissingAuthenticationTokenException)", r.stderr)


class EndpointEnvironmentCredentials(unittest.TestCase):
    def test_environment_credentials(self):
        tmp = tempfile.mkdtemp(prefix="runnel-sigv4-env-")
        host = Host(tmp, [], {"RUNNEL_ACCESS_KEY_ID": "AKIDENV",
                              "RUNNEL_SECRET_ACCESS_KEY": "env/secret"})
        try:
            self.assertNotIn(error_code(lambda: client("dynamodb", host.url, "AKIDENV",
                                                       "env/secret").list_tables()), AUTH_ERRORS)
            self.assertEqual(error_code(lambda: client("dynamodb", host.url).list_tables()),
                             "UnrecognizedClientException")
        finally:
            self.assertEqual(host.stop(), 0)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    RUNNEL = sys.argv.pop(1)
    # (boto3's connection pools are left to the interpreter's exit.)
    unittest.main(verbosity=2, warnings="ignore")

#!/usr/bin/env python3
# Copyright 2026 The runnel Authors.
"""Runs a command against a real `runnel run --listen 127.0.0.1:0` host.

    with_endpoint.py --runnel PATH --plugin PATH [--signed] -- COMMAND...

Starts the host on a fresh DB in a temporary directory, waits for the
address it prints, and runs COMMAND with this environment:

  RUNNEL_ENDPOINT       http://127.0.0.1:PORT
  RUNNEL_DB             the DB directory (runnel commands reach the host's socket)
  RUNNEL                the runnel binary
  RUNNEL_FUNCTION_ZIP   a zip holding the plugin (as `aws lambda create-function
                        --zip-file fileb://...` sends it), named process_stream.so
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION, AWS_REGION
                        credentials for the clients; with --signed the host is
                        started with them (--credentials FILE) and verifies SigV4
  AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE  empty files (no user config)

Then stops the host with SIGTERM. Exit status: the command's, or 1 if the
host did not start, did not stop cleanly, or printed a sanitizer report.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile

ACCESS_KEY = "AKIDRUNNELTEST000001"
SECRET_KEY = "runnel-test-secret-key/0123456789abcdefABCD"


def start_host(runnel, db, creds, log):
    cmd = [runnel, "--db", db, "run", "--listen", "127.0.0.1:0"]
    if creds:
        cmd += ["--credentials", creds]
    host = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    found = {}

    def read():
        for line in host.stdout:
            sys.stderr.write("[host] " + line)
            m = re.search(r"http://[0-9.]+:[0-9]+", line)
            if m and "url" not in found:
                found["url"] = m.group(0)
                ready.set()
        ready.set()

    ready = threading.Event()
    threading.Thread(target=read, daemon=True).start()
    ready.wait(60)
    return host, found.get("url")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runnel", required=True)
    p.add_argument("--plugin", required=True)
    p.add_argument("--signed", action="store_true")
    p.add_argument("command", nargs=argparse.REMAINDER)
    a = p.parse_args()
    command = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not command:
        p.error("no command")

    with tempfile.TemporaryDirectory(prefix="runnel-endpoint-") as tmp:
        db = os.path.join(tmp, "db")
        zip_path = os.path.join(tmp, "function.zip")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(a.plugin, "process_stream.so")
        creds = None
        if a.signed:
            creds = os.path.join(tmp, "credentials")
            with open(creds, "w") as f:
                f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" %
                        (ACCESS_KEY, SECRET_KEY))
        empty = os.path.join(tmp, "empty")
        open(empty, "w").close()
        log_path = os.path.join(tmp, "host.log")
        with open(log_path, "w") as log:
            host, url = start_host(a.runnel, db, creds, log)
            if url is None:
                host.kill()
                host.wait()
                sys.stderr.write(open(log_path).read())
                print("with_endpoint: the host printed no address", file=sys.stderr)
                return 1
            env = dict(os.environ)
            env.update({
                "RUNNEL_ENDPOINT": url,
                "RUNNEL_DB": db,
                "RUNNEL": os.path.abspath(a.runnel),
                "RUNNEL_FUNCTION_ZIP": zip_path,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "AWS_CONFIG_FILE": empty,
                "AWS_SHARED_CREDENTIALS_FILE": empty,
                "AWS_PAGER": "",
            })
            rc = subprocess.call(command, env=env)
            host.send_signal(signal.SIGTERM)
            try:
                host_rc = host.wait(60)
            except subprocess.TimeoutExpired:
                host.kill()
                host_rc = "killed after 60 s"
        text = open(log_path).read()
        if text:
            sys.stderr.write("[host stderr]\n" + text)
        if host_rc != 0:
            print("with_endpoint: the host exited with %s" % host_rc, file=sys.stderr)
            return 1
        if "Sanitizer" in text or "runtime error:" in text:
            print("with_endpoint: the host printed a sanitizer report", file=sys.stderr)
            return 1
        return rc


if __name__ == "__main__":
    sys.exit(main())

# Copyright 2026 The runnel Authors.
#
# The local control socket of `runnel run` (DIR/runnel.sock).
#
# A second shell's `runnel` command does not re-implement any command as a
# remote call: it hands its whole command line to the host, with its working
# directory and its standard streams (as file descriptors passed over the
# Unix socket), and the host runs the very same command against the DB it has
# open. Output, progress bars and errors go straight to the caller's
# terminal; the caller exits with the status the host returns.

@0xaef06d5d982aad54;

$import "/capnp/c++.capnp".namespace("runnel::host");

# A capability that carries one file descriptor (Cap'n Proto passes it with
# SCM_RIGHTS; the host reads it with Capability::Client::getFd()).
interface Stream {}

interface Host {
  # Runs `args` (argv without the program name, e.g. ["put-item",
  # "--table-name", "Music", ...]) as if typed in `cwd`. The host answers
  # with the command's exit status: 0 success, 1 error, 2 usage error.
  run @0 (args :List(Text), cwd :Text,
          stdin :Stream, stdout :Stream, stderr :Stream) -> (exitStatus :Int32);

  # Who is hosting: for `runnel` to say so in errors and `inspect stats`.
  info @1 () -> (pid :Int32, dbName :Text, version :Text);
}

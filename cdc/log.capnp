# Copyright 2026 The runnel Authors.
#
# Payloads of log frames (see cdc/log_format.h for the framing) and the
# catalog kept in the index. A payload is one unpacked, single-segment Cap'n
# Proto message in flat-array form, so readers decode it in place from the
# mapped segment.
#
# Evolution: fields are only ever added (Cap'n Proto keeps old readers
# working); a change old readers must not misread gets a new frame type.

@0xda32a0f3c7240cc7;

$import "/capnp/c++.capnp".namespace("runnel::schema");

enum Event {
  insert @0;
  modify @1;
  remove @2;
}

# The table's stream at the time of the commit: `none` means the record is in
# the log (it is the WAL) but in no stream.
enum View {
  none @0;
  keysOnly @1;
  newImage @2;
  oldImage @3;
  newAndOldImages @4;
}

# One changed item. Its sequence number is the frame's first sequence plus
# the change's index in `changes`.
struct Change {
  tableId @0 :UInt32;
  event @1 :Event;
  view @2 :View;
  key @3 :Data;
  # The value before the change; stored only when `view` keeps old images.
  oldImage @4 :Data;
  # The value after the change; always stored for insert/modify (the log is
  # the WAL), null for remove.
  newImage @5 :Data;
  # Byte size of the old value (0 for insert), so replay can keep table
  # sizes exact without the old image.
  oldSize @6 :UInt32;
}

# Frame type 1: one atomic batch of item changes.
struct BatchFrame {
  commitTimeMicros @0 :Int64;
  changes @1 :List(Change);
}

struct StreamEntry {
  label @0 :Text;
  view @1 :View;
  creationTimeMicros @2 :Int64;
  # Records of the stream: sequence numbers in [startSeq, endSeq];
  # endSeq = 0 while the stream is enabled.
  startSeq @3 :UInt64;
  endSeq @4 :UInt64;
}

struct TableEntry {
  id @0 :UInt32;
  name @1 :Text;
  creationTimeMicros @2 :Int64;
  # Sequence number of the delete-table frame; 0 while the table is live.
  deletedSeq @3 :UInt64;
  streams @4 :List(StreamEntry);
}

# Frame type 2: one metadata change. It consumes one sequence number.
struct MetaFrame {
  commitTimeMicros @0 :Int64;
  union {
    createTable @1 :TableEntry;
    deleteTable @2 :UInt32;
    # Enable (view != none, with the new stream's label) or disable the
    # table's stream.
    updateStream :group {
      tableId @3 :UInt32;
      view @4 :View;
      label @5 :Text;
    }
  }
}

# The catalog as stored in the index (key "\0catalog"), rewritten whole on
# every metadata change.
struct Catalog {
  nextTableId @0 :UInt32;
  tables @1 :List(TableEntry);
}

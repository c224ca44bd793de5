# Copyright 2026 The runnel Authors.
#
# `runnel dump --format capnp`: a stream of Entry messages (standard Cap'n
# Proto stream framing, unpacked): one header, then for each table its Table
# entry followed by its items, then one end entry with the totals (a dump
# without it was cut short and `load` refuses it).

@0xe3d98335f3564282;

$import "/capnp/c++.capnp".namespace("runnel::dump");

struct Entry {
  union {
    header @0 :Header;
    table @1 :Table;
    item @2 :Item;
    end @3 :End;
  }
}

struct Header {
  format @0 :Text;     # "runnel-dump"
  version @1 :UInt32;  # 1
  dbName @2 :Text;
  lastSequenceNumber @3 :UInt64;
}

struct Table {
  name @0 :Text;
  streamEnabled @1 :Bool;
  streamViewType @2 :Text;  # KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES
}

struct Item {
  table @0 :Text;
  key @1 :Data;
  value @2 :Data;
}

struct End {
  tables @0 :UInt64;
  items @1 :UInt64;
}

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
  # A typed table (runnel/item.h): its key schema (empty for a byte table)
  # and the types of its key attributes, and its time to live.
  keySchema @3 :List(KeySchemaElement);
  attributeDefinitions @4 :List(AttributeDefinition);
  ttlEnabled @5 :Bool;
  ttlAttributeName @6 :Text;
}

struct KeySchemaElement {
  attributeName @0 :Text;
  keyType @1 :Text;  # HASH or RANGE
}

struct AttributeDefinition {
  attributeName @0 :Text;
  attributeType @1 :Text;  # S, N or B
}

struct Item {
  table @0 :Text;
  key @1 :Data;
  value @2 :Data;
  # An item of a typed table, in DynamoDB JSON ({"pk":{"S":"a"},...}); key
  # and value are then empty. JSON rather than the index encoding: a dump
  # outlives any one version's storage format.
  itemJson @3 :Text;
}

struct End {
  tables @0 :UInt64;
  items @1 :UInt64;
}

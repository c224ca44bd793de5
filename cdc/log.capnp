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
# the change's index in `changes`. A data-only struct (no pointers): its
# bytes are in the frame's `data`, so reading a change follows no pointer.
struct Change {
  tableId @0 :UInt32;
  event @1 :Event;
  view @2 :View;
  keySize @3 :UInt32;
  # The value before the change is stored only when `view` keeps old
  # images; the value after it always for insert/modify (the log is the
  # WAL), never for remove.
  hasOldImage @4 :Bool;
  hasNewImage @5 :Bool;
  oldImageSize @6 :UInt32;
  newImageSize @7 :UInt32;
  # Byte size of the old value (0 for insert), so replay can keep table
  # sizes exact without the old image.
  oldSize @8 :UInt32;
}

# A mapping's progress, committed atomically with the write-backs of the
# batch it completes (exactly-once effects).
struct Checkpoint {
  mappingId @0 :UInt32;
  # The next stream sequence number the mapping will process.
  position @1 :UInt64;
  # LastProcessingResult as of this checkpoint.
  result @2 :Text;
  # ParallelizationFactor > 1: the position each lane has committed (one
  # per lane, lane = XXH3-64 of the item key mod the lane count); `position`
  # is then their minimum (the low-water mark). Empty: one lane, or every
  # lane at `position`. Older checkpoints have none.
  lanePositions @3 :List(UInt64);
  # Tumbling windows (TumblingWindowInSeconds > 0), committed with the
  # position so a window's aggregate survives a crash. `windowState` is null
  # in a checkpoint of a mapping without windows (older checkpoints have
  # none). Present and non-empty: the state (a JSON object) of the open
  # window, which starts at `windowStartMicros`. Present and empty: no window
  # is open, and the next one starts at `windowStartMicros` or later (the end
  # of the window closed last).
  windowStartMicros @4 :Int64;
  windowState @5 :Text;
  # Snapshot bootstrap (StartingPosition snapshot): how far the mapping has
  # read the table's items. none on every other checkpoint.
  snapshotPhase @6 :SnapshotPhase;
  snapshotSegments @7 :List(SnapshotSegment);
  # Snapshot records processed (delivered, or sent to the failure
  # destination), filtered-out ones excluded.
  snapshotRecords @8 :UInt64;
}

enum SnapshotPhase {
  none @0;       # not a snapshot mapping, or its snapshot is behind it
  scanning @1;   # reading the table's items
  streaming @2;  # reading the stream; some records are covered by segments
  done @3;       # the stream phase has passed every segment
}

# The keys after the previous segment's lastKey up to lastKey (inclusive)
# were delivered as read from the index as of `sequence`. In phase streaming
# the last segment reaches to the end of the key space.
struct SnapshotSegment {
  lastKey @0 :Data;
  sequence @1 :UInt64;
}

# Frame type 1: one atomic batch of item changes. With a checkpoint, the
# checkpoint takes the frame's last sequence number (after the changes).
struct BatchFrame {
  commitTimeMicros @0 :Int64;
  changes @1 :List(Change);
  # The bytes of all changes back to back, in change order: each change's
  # key, then its old image (if stored), then its new image (if stored).
  data @2 :Data;
  checkpoint @3 :Checkpoint;
  # How many trigger invocations led to this write: 0 for an application's
  # write, n + 1 for a handler's write-back caused by records of depth n.
  chainDepth @4 :UInt8;
  # The frame's changes are deletions by a typed table's time to live (the
  # cloud's Service userIdentity in stream records).
  ttlDelete @5 :Bool;
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
  # Typed tables: the key attributes (hashKeyName empty for a byte table,
  # rangeKeyName empty without a RANGE key); types 1 S, 2 N, 3 B.
  hashKeyName @5 :Text;
  hashKeyType @6 :UInt8;
  rangeKeyName @7 :Text;
  rangeKeyType @8 :UInt8;
  # Time to live (UpdateTimeToLive): the attribute holding the expiry time.
  ttlEnabled @9 :Bool;
  ttlAttribute @10 :Text;
}

struct EnvVar {
  name @0 :Text;
  value @1 :Text;
}

enum FunctionKind {
  library @0;    # a shared library loaded with dlopen
  inProcess @1;  # a C++ callable the application registers after each open
}

struct FunctionEntry {
  name @0 :Text;
  kind @1 :FunctionKind;
  library @2 :Text;        # resolved absolute path
  handler @3 :Text;        # exported symbol
  environment @4 :List(EnvVar);
  timeoutSeconds @5 :UInt32;
  description @6 :Text;
  lastModifiedMicros @7 :Int64;
  codeHash @8 :Text;       # XXH3-128 of the library file when created/updated
  # Added after the first release: older entries read as inProcess.
  isolation @9 :FunctionIsolation;
}

enum FunctionIsolation {
  inProcess @0;  # the handler runs in the host process
  process @1;    # in a runnel-worker process
}

enum StartingPosition {
  trimHorizon @0;
  latest @1;
  atTimestamp @2;
  atSequenceNumber @3;
  snapshot @4;  # runnel: the table's items first, then the stream
}

struct MappingEntry {
  id @0 :UInt32;           # internal, never reused (checkpoint key)
  uuid @1 :Text;
  functionName @2 :Text;
  eventSourceArn @3 :Text;
  batchSize @4 :UInt32;
  maxBatchingWindowSeconds @5 :UInt32;
  startingPosition @6 :StartingPosition;
  startingTimestampMicros @7 :Int64;
  startingSequence @8 :UInt64;
  enabled @9 :Bool;
  maxRetryAttempts @10 :Int32;
  maxRecordAgeSeconds @11 :Int32;
  bisectOnError @12 :Bool;
  onFailureDestination @13 :Text;   # a table name; empty: none
  reportBatchItemFailures @14 :Bool;
  lastModifiedMicros @15 :Int64;
  stateTransitionReason @16 :Text;
  # The stream position the mapping starts from, resolved at creation.
  initialPosition @17 :UInt64;
  # FilterCriteria patterns (JSON text); empty: every record is delivered.
  # Older catalogs and frames have none.
  filterPatterns @18 :List(Text);
  # ParallelizationFactor 1..10; 0 (older catalogs) means 1.
  parallelizationFactor @19 :UInt8;
  # TumblingWindowInSeconds, 0-900; 0 (and older entries): no windows.
  tumblingWindowSeconds @20 :UInt32;
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
    putFunction @6 :FunctionEntry;     # create or replace
    deleteFunction @7 :Text;
    putMapping @8 :MappingEntry;       # create or replace (by id)
    deleteMapping @9 :UInt32;
    # Enable or disable a typed table's time to live.
    updateTimeToLive :group {
      ttlTableId @10 :UInt32;
      ttlEnabled @11 :Bool;
      ttlAttribute @12 :Text;
    }
  }
}

# The catalog as stored in the index (key "\0catalog"), rewritten whole on
# every metadata change.
struct Catalog {
  nextTableId @0 :UInt32;
  tables @1 :List(TableEntry);
  functions @2 :List(FunctionEntry);
  mappings @3 :List(MappingEntry);
  nextMappingId @4 :UInt32;
}

// Copyright 2026 The runnel Authors.

#include "triggers/worker_protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace runnel::worker {

void Encoder::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Encoder::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void Encoder::Bytes(std::string_view b) {
  U32(static_cast<uint32_t>(b.size()));
  out_.append(b);
}

std::string Encoder::Frame(FrameType type) const {
  const uint32_t len = static_cast<uint32_t>(out_.size() + 1);
  std::string f;
  f.reserve(out_.size() + 5);
  for (int i = 0; i < 4; ++i) f.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  f.push_back(static_cast<char>(type));
  f.append(out_);
  return f;
}

bool Decoder::U8(uint8_t* v) {
  if (in_.empty()) return false;
  *v = static_cast<uint8_t>(in_[0]);
  in_.remove_prefix(1);
  return true;
}

bool Decoder::U32(uint32_t* v) {
  if (in_.size() < 4) return false;
  uint32_t r = 0;
  for (int i = 0; i < 4; ++i) r |= static_cast<uint32_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
  in_.remove_prefix(4);
  *v = r;
  return true;
}

bool Decoder::I32(int32_t* v) {
  uint32_t u;
  if (!U32(&u)) return false;
  *v = static_cast<int32_t>(u);
  return true;
}

bool Decoder::U64(uint64_t* v) {
  if (in_.size() < 8) return false;
  uint64_t r = 0;
  for (int i = 0; i < 8; ++i) r |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
  in_.remove_prefix(8);
  *v = r;
  return true;
}

bool Decoder::I64(int64_t* v) {
  uint64_t u;
  if (!U64(&u)) return false;
  *v = static_cast<int64_t>(u);
  return true;
}

bool Decoder::Bytes(std::string_view* v) {
  uint32_t n;
  if (!U32(&n) || in_.size() < n) return false;
  *v = in_.substr(0, n);
  in_.remove_prefix(n);
  return true;
}

void EncodeBatch(const runnel_batch& batch, Encoder* e) {
  e->Bytes(batch.event_source_arn != nullptr ? batch.event_source_arn : "");
  e->Bytes(batch.mapping_uuid != nullptr ? batch.mapping_uuid : "");
  e->U32(static_cast<uint32_t>(batch.count));
  for (size_t i = 0; i < batch.count; ++i) {
    const runnel_record& r = batch.records[i];
    e->U64(r.sequence_number);
    e->I64(r.commit_time_micros);
    e->I32(r.event_name);
    e->U32(r.size_bytes);
    e->Bytes(std::string_view(r.table, r.table_len));
    e->Bytes(std::string_view(r.key, r.key_len));
    e->I32(r.has_old_image);
    e->I32(r.has_new_image);
    e->Bytes(r.has_old_image ? std::string_view(r.old_image, r.old_image_len) : "");
    e->Bytes(r.has_new_image ? std::string_view(r.new_image, r.new_image_len) : "");
    e->I32(r.typed);
    e->I32(r.snapshot);
  }
}

namespace {

bool DecodeRecord(Decoder* d, runnel_record* r) {
  std::string_view table, key, old_image, new_image;
  bool ok = d->U64(&r->sequence_number) && d->I64(&r->commit_time_micros) &&
            d->I32(&r->event_name) && d->U32(&r->size_bytes) && d->Bytes(&table) &&
            d->Bytes(&key) && d->I32(&r->has_old_image) && d->I32(&r->has_new_image) &&
            d->Bytes(&old_image) && d->Bytes(&new_image) && d->I32(&r->typed) &&
            d->I32(&r->snapshot);
  if (!ok) return false;
  r->table = table.data();
  r->table_len = table.size();
  r->key = key.data();
  r->key_len = key.size();
  r->old_image = old_image.data();
  r->old_image_len = old_image.size();
  r->new_image = new_image.data();
  r->new_image_len = new_image.size();
  return true;
}

}  // namespace

bool DecodeBatch(Decoder* d, DecodedBatch* out) {
  std::string_view arn, uuid;
  uint32_t count;
  if (!d->Bytes(&arn) || !d->Bytes(&uuid) || !d->U32(&count)) return false;
  out->event_source_arn.assign(arn);
  out->mapping_uuid.assign(uuid);
  out->records.clear();
  // Each record takes at least 60 bytes: a count beyond that is a lie.
  out->records.reserve(std::min<size_t>(count, 1 << 16));
  for (uint32_t i = 0; i < count; ++i) {
    runnel_record r = {};
    if (!DecodeRecord(d, &r)) return false;
    out->records.push_back(r);
  }
  out->batch.records = out->records.data();
  out->batch.count = out->records.size();
  out->batch.event_source_arn = out->event_source_arn.c_str();
  out->batch.mapping_uuid = out->mapping_uuid.c_str();
  return true;
}

bool SendFrame(int fd, const std::string& frame) {
  size_t off = 0;
  while (off < frame.size()) {
    const ssize_t n = ::send(fd, frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

namespace {

// Reads exactly `len` bytes, waiting until `deadline`.
ReadResult ReadFull(int fd, std::chrono::steady_clock::time_point deadline, char* buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    int wait_ms = -1;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return ReadResult::kTimeout;
      // Rounded up so that the deadline has passed when poll times out.
      wait_ms = static_cast<int>(std::min<int64_t>(left + 1, 1 << 30));
    }
    pollfd p = {fd, POLLIN, 0};
    const int pr = ::poll(&p, 1, wait_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) return ReadResult::kError;
    if (pr == 0) continue;  // the deadline check above decides
    const ssize_t n = ::read(fd, buf + off, len - off);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return off == 0 ? ReadResult::kEof : ReadResult::kError;
    if (n == 0) return ReadResult::kEof;
    off += static_cast<size_t>(n);
  }
  return ReadResult::kOk;
}

}  // namespace

ReadResult ReadFrame(int fd, std::chrono::steady_clock::time_point deadline, FrameType* type,
                     std::string* payload) {
  char head[5];
  ReadResult r = ReadFull(fd, deadline, head, 4);
  if (r != ReadResult::kOk) return r;
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<uint8_t>(head[i])) << (8 * i);
  if (len < 1 || len > kMaxFrameBytes) return ReadResult::kError;
  r = ReadFull(fd, deadline, head + 4, 1);
  if (r != ReadResult::kOk) return r == ReadResult::kEof ? ReadResult::kError : r;
  *type = static_cast<FrameType>(static_cast<uint8_t>(head[4]));
  payload->resize(len - 1);
  if (len > 1) {
    r = ReadFull(fd, deadline, payload->data(), len - 1);
    if (r == ReadResult::kEof) r = ReadResult::kError;
  }
  return r;
}

}  // namespace runnel::worker

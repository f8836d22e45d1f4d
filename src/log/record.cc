// Encoding and parsing of the log's records (record.h).
#include "log/record.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstring>

namespace tempo::log {
namespace {

static_assert(std::endian::native == std::endian::little,
              "the record format is little-endian and written with memcpy");

void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

void PutBytes(std::string* out, std::string_view bytes) {
  PutU32(out, static_cast<uint32_t>(bytes.size()));
  out->append(bytes);
}

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint64_t LoadU64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint64_t Checksum(const char* payload, uint32_t length) {
  return XXH3_64bits_withSeed(payload, length, length);
}

// Reads a u32 length and that many bytes from the front of `*in`.
bool TakeBytes(std::string_view* in, std::string_view* bytes) {
  if (in->size() < 4) return false;
  uint32_t n = LoadU32(in->data());
  in->remove_prefix(4);
  if (in->size() < n) return false;
  *bytes = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

size_t PayloadBytes(std::string_view key, std::string_view value,
                    const std::vector<stream::Header>& headers) {
  size_t n = kPayloadOverheadBytes + key.size() + value.size();
  for (const auto& h : headers) n += 8 + h.name.size() + h.value.size();
  return n;
}

void AppendRecord(std::string* out, std::string_view key, std::string_view value,
                  const std::vector<stream::Header>& headers) {
  size_t payload = PayloadBytes(key, value, headers);
  out->reserve(out->size() + kRecordHeaderBytes + payload);
  PutU32(out, kRecordMagic);
  PutU32(out, static_cast<uint32_t>(payload));
  out->append(8 + 8, '\0');  // checksum and offset, filled by SealRecord
  PutBytes(out, key);
  PutBytes(out, value);
  PutU32(out, static_cast<uint32_t>(headers.size()));
  for (const auto& h : headers) {
    PutBytes(out, h.name);
    PutBytes(out, h.value);
  }
}

void SealRecord(char* record, int64_t offset) {
  uint32_t length = LoadU32(record + 4);
  char* payload = record + kRecordHeaderBytes;
  std::memcpy(payload, &offset, 8);
  uint64_t sum = Checksum(payload, length);
  std::memcpy(record + 8, &sum, 8);
}

size_t RecordBytes(const char* record) { return kRecordHeaderBytes + LoadU32(record + 4); }

ParsedRecord ParseRecord(std::string_view bytes) {
  ParsedRecord r;
  if (bytes.empty()) {
    r.kind = ParsedRecord::Kind::kIncomplete;
    r.bytes = kRecordHeaderBytes;
    return r;
  }
  if (bytes.size() < kRecordHeaderBytes) {
    // A prefix of a header with a wrong magic is already bad.
    uint32_t magic = kRecordMagic;
    if (std::memcmp(bytes.data(), &magic, std::min<size_t>(bytes.size(), sizeof magic)) != 0) {
      r.problem = "bad magic";
      return r;
    }
    r.kind = ParsedRecord::Kind::kIncomplete;
    r.bytes = kRecordHeaderBytes;
    return r;
  }
  if (LoadU32(bytes.data()) != kRecordMagic) {
    r.problem = "bad magic";
    return r;
  }
  uint32_t length = LoadU32(bytes.data() + 4);
  if (length < kPayloadOverheadBytes || length > kMaxPayloadBytes) {
    r.problem = "impossible length";
    return r;
  }
  size_t total = kRecordHeaderBytes + length;
  if (bytes.size() < total) {
    r.kind = ParsedRecord::Kind::kIncomplete;
    r.bytes = total;
    return r;
  }
  const char* payload = bytes.data() + kRecordHeaderBytes;
  if (Checksum(payload, length) != LoadU64(bytes.data() + 8)) {
    r.problem = "checksum mismatch";
    return r;
  }
  r.kind = ParsedRecord::Kind::kRecord;
  r.bytes = total;
  r.payload = std::string_view(payload, length);
  return r;
}

bool PayloadOffset(std::string_view payload, int64_t* offset) {
  if (payload.size() < 8) return false;
  std::memcpy(offset, payload.data(), 8);
  return true;
}

Status DecodePayload(std::string_view payload, stream::Message* out) {
  std::string_view in = payload;
  std::string_view key, value;
  bool ok = PayloadOffset(in, &out->offset);
  if (ok) {
    in.remove_prefix(8);
    ok = TakeBytes(&in, &key) && TakeBytes(&in, &value) && in.size() >= 4;
  }
  if (!ok) return Status::Corruption("record fields overrun the payload");
  uint32_t count = LoadU32(in.data());
  in.remove_prefix(4);
  // Each header takes at least 8 bytes: a count beyond that is damage, and
  // must not size an allocation.
  if (count > in.size() / 8) return Status::Corruption("record header count overruns the payload");
  out->key.assign(key);
  out->value.assign(value);
  out->headers.clear();
  out->headers.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view name, hvalue;
    if (!TakeBytes(&in, &name) || !TakeBytes(&in, &hvalue)) {
      return Status::Corruption("record headers overrun the payload");
    }
    out->headers.push_back(stream::Header{std::string(name), std::string(hvalue)});
  }
  if (!in.empty()) return Status::Corruption("record has bytes after its headers");
  return Status::OK();
}

}  // namespace tempo::log

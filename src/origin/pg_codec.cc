// The PostgreSQL origin's row codec (see pg_codec.h).
#include "origin/pg_codec.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tempo::origin::pg {
namespace {

using events::Kind;

// Stored kind codes: their order is the kind-name order.
constexpr int16_t kExperimentCode = 0;
constexpr int16_t kModuleCode = 1;
constexpr int16_t kTemplateCode = 2;

void AppendBigEndian32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string ToBigEndian(uint64_t v, int bytes) {
  std::string out(bytes, '\0');
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xFF);
  return out;
}

}  // namespace

int16_t KindCode(Kind kind) {
  switch (kind) {
    case Kind::kExperiment:
      return kExperimentCode;
    case Kind::kModule:
      return kModuleCode;
    case Kind::kTemplate:
      return kTemplateCode;
  }
  return kModuleCode;  // unreachable: every enumerator is handled above
}

bool KindFromCode(int16_t code, Kind* kind) {
  switch (code) {
    case kExperimentCode:
      *kind = Kind::kExperiment;
      return true;
    case kModuleCode:
      *kind = Kind::kModule;
      return true;
    case kTemplateCode:
      *kind = Kind::kTemplate;
      return true;
  }
  return false;
}

// ---- parameters -------------------------------------------------------------

void Params::Int16(int16_t v) { Encoded(ToBigEndian(static_cast<uint16_t>(v), 2)); }

void Params::Int64(int64_t v) { Encoded(ToBigEndian(static_cast<uint64_t>(v), 8)); }

void Params::ByteaArray(const std::vector<std::string>& items) {
  std::string out;
  AppendBigEndian32(&out, items.empty() ? 0 : 1);  // dimensions
  AppendBigEndian32(&out, 0);                      // no NULL elements
  AppendBigEndian32(&out, kByteaOid);
  if (!items.empty()) {
    AppendBigEndian32(&out, static_cast<uint32_t>(items.size()));
    AppendBigEndian32(&out, 1);  // lower bound
  }
  for (const std::string& item : items) {
    AppendBigEndian32(&out, static_cast<uint32_t>(item.size()));
    out += item;
  }
  Encoded(std::move(out));
}

// ---- result cells -----------------------------------------------------------

Status Cells::Bytes(int row, int col, std::string* out) const {
  if (IsNull(row, col)) return Bad();
  out->assign(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
  return Status::OK();
}

Status Cells::Int64(int row, int col, int64_t* out) const {
  if (IsNull(row, col) || PQgetlength(r_, row, col) != 8) return Bad();
  *out = static_cast<int64_t>(ReadBigEndian(PQgetvalue(r_, row, col), 8));
  return Status::OK();
}

Status Cells::Int16(int row, int col, int16_t* out) const {
  if (IsNull(row, col) || PQgetlength(r_, row, col) != 2) return Bad();
  *out = static_cast<int16_t>(ReadBigEndian(PQgetvalue(r_, row, col), 2));
  return Status::OK();
}

Status Cells::Bool(int row, int col, bool* out) const {
  if (IsNull(row, col) || PQgetlength(r_, row, col) != 1) return Bad();
  *out = PQgetvalue(r_, row, col)[0] != 0;
  return Status::OK();
}

Status Cells::Kind(int row, int col, events::Kind* out) const {
  int16_t code = 0;
  if (Status s = Int16(row, col, &code); !s.ok()) return s;
  if (!KindFromCode(code, out)) return Status::Corruption("origin: unknown stored kind code");
  return Status::OK();
}

Status Cells::ByteaArray(int row, int col, std::vector<std::string>* out) const {
  if (IsNull(row, col)) return Bad();
  std::string_view in(PQgetvalue(r_, row, col), PQgetlength(r_, row, col));
  auto next32 = [&in](uint32_t* v) {
    if (in.size() < 4) return false;
    *v = static_cast<uint32_t>(ReadBigEndian(in.data(), 4));
    in.remove_prefix(4);
    return true;
  };
  uint32_t dims = 0, has_nulls = 0, elem_type = 0, count = 0, lower_bound = 0;
  if (!next32(&dims) || !next32(&has_nulls) || !next32(&elem_type) || dims > 1 || has_nulls != 0 ||
      elem_type != kByteaOid) {
    return Bad();
  }
  if (dims == 1 && (!next32(&count) || !next32(&lower_bound))) return Bad();
  // Each element takes at least its 4-byte length, which bounds the reservation.
  if (count > in.size() / 4) return Bad();
  out->clear();
  out->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    if (!next32(&size) || size > in.size()) return Bad();
    out->emplace_back(in.substr(0, size));
    in.remove_prefix(size);
  }
  return in.empty() ? Status::OK() : Bad();
}

}  // namespace tempo::origin::pg

// L2 value encoding (see value_codec.h).
#include "l2/value_codec.h"

#include <xxhash.h>

#include <cstdint>
#include <utility>

#include "origin/coding.h"

namespace tempo::l2 {
namespace {

constexpr std::string_view kMagic = "TPL2";
constexpr size_t kChecksumBytes = 8;
// kind byte + empty id + one-byte version + empty body: the smallest row, used
// to reject a row count the remaining bytes cannot hold before reserving.
constexpr size_t kMinRowBytes = 4;
constexpr uint8_t kMaxKind = static_cast<uint8_t>(events::Kind::kTemplate);

Status Corrupt(const std::string& reason) { return Status::Corruption("L2 value: " + reason); }

}  // namespace

std::string EncodeSliceValue(std::string_view ns, int schema, const origin::SliceKey& slice,
                             const std::vector<origin::Row>& rows) {
  std::string out(kMagic);
  out.push_back(static_cast<char>(kValueFormatVersion));
  origin::AppendVarint64(&out, static_cast<uint64_t>(schema));
  origin::AppendLengthPrefixed(&out, ns);
  origin::AppendLengthPrefixed(&out, slice.partition.tenant);
  origin::AppendLengthPrefixed(&out, slice.partition.channel);
  origin::AppendLengthPrefixed(&out, slice.partition.page_type);
  origin::AppendLengthPrefixed(&out, slice.scope);
  origin::AppendVarint64(&out, rows.size());
  for (const origin::Row& row : rows) {
    out.push_back(static_cast<char>(row.kind));
    origin::AppendLengthPrefixed(&out, row.id);
    origin::AppendVarint64(&out, static_cast<uint64_t>(row.version));
    origin::AppendLengthPrefixed(&out, row.body);
  }
  origin::AppendFixed64(&out, XXH3_64bits(out.data(), out.size()));
  return out;
}

Result<std::vector<origin::Row>> DecodeSliceValue(std::string_view value, std::string_view ns,
                                                  int schema, const origin::SliceKey& slice) {
  if (value.size() < kMagic.size() + 1 + kChecksumBytes) return Corrupt("truncated header");
  if (value.substr(0, kMagic.size()) != kMagic) return Corrupt("bad magic");
  const auto format = static_cast<uint8_t>(value[kMagic.size()]);
  if (format != kValueFormatVersion) {
    return Corrupt("format version " + std::to_string(format) + ", expected " +
                   std::to_string(kValueFormatVersion));
  }
  std::string_view body = value.substr(0, value.size() - kChecksumBytes);
  std::string_view trailer = value.substr(body.size());
  uint64_t checksum = 0;
  origin::ReadFixed64(&trailer, &checksum);
  if (checksum != XXH3_64bits(body.data(), body.size())) return Corrupt("checksum mismatch");

  std::string_view in = body.substr(kMagic.size() + 1);
  uint64_t stored_schema = 0;
  if (!origin::ReadVarint64(&in, &stored_schema)) return Corrupt("truncated schema");
  if (stored_schema != static_cast<uint64_t>(schema)) {
    return Corrupt("schema " + std::to_string(stored_schema) + ", expected " +
                   std::to_string(schema));
  }
  const std::pair<std::string_view, std::string_view> identity[] = {
      {"namespace", ns},
      {"tenant", slice.partition.tenant},
      {"channel", slice.partition.channel},
      {"page type", slice.partition.page_type},
      {"scope", slice.scope}};
  for (const auto& [name, expected] : identity) {
    std::string_view got;
    if (!origin::ReadLengthPrefixed(&in, &got)) return Corrupt("truncated " + std::string(name));
    if (got != expected) return Corrupt(std::string(name) + " differs: value of another slice");
  }
  uint64_t count = 0;
  if (!origin::ReadVarint64(&in, &count)) return Corrupt("truncated row count");
  if (count > in.size() / kMinRowBytes) {
    return Corrupt("row count " + std::to_string(count) + " exceeds the value's size");
  }
  std::vector<origin::Row> rows;
  rows.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    if (in.empty()) return Corrupt("truncated row " + std::to_string(i));
    const auto kind = static_cast<uint8_t>(in[0]);
    in.remove_prefix(1);
    if (kind > kMaxKind) return Corrupt("row " + std::to_string(i) + " has unknown kind");
    std::string_view id, row_body;
    uint64_t version = 0;
    if (!origin::ReadLengthPrefixed(&in, &id) || !origin::ReadVarint64(&in, &version) ||
        !origin::ReadLengthPrefixed(&in, &row_body)) {
      return Corrupt("truncated row " + std::to_string(i));
    }
    rows.push_back(origin::Row{slice.scope, static_cast<events::Kind>(kind), std::string(id),
                               static_cast<int64_t>(version), std::string(row_body)});
  }
  if (!in.empty()) return Corrupt(std::to_string(in.size()) + " trailing bytes");
  return rows;
}

}  // namespace tempo::l2

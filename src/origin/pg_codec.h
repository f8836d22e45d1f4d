// The PostgreSQL origin's row codec: statement parameters and result cells
// in libpq's binary format, and the stored kind codes. Every read checks the
// wire size, so bytes that are not what the schema says become Corruption.
// Internal to src/origin/ (see pg_origin.h).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "events/record.h"
#include "libpq-fe.h"

namespace tempo::origin::pg {

// Built-in type OIDs (fixed in PostgreSQL's catalog, pg_type.dat).
inline constexpr Oid kBoolOid = 16;
inline constexpr Oid kByteaOid = 17;
inline constexpr Oid kInt8Oid = 20;
inline constexpr Oid kInt2Oid = 21;
inline constexpr Oid kByteaArrayOid = 1001;

// The stored code of a kind: the codes' order is the kind-name order of
// SPEC §11 (experiment 0 < module 1 < template 2), so ORDER BY kind, id is
// the RocksDB origin's row order.
int16_t KindCode(events::Kind kind);
// The kind of a stored code; false for a code no kind has.
bool KindFromCode(int16_t code, events::Kind* kind);

// Parameters of one statement, all in binary format. Strings are referenced,
// not copied: they must outlive the call.
class Params {
 public:
  void Bytes(std::string_view v) { Add(v.data(), v.size()); }
  void Int16(int16_t v);
  void Int64(int64_t v);
  void Bool(bool v) { Encoded(std::string(1, v ? 1 : 0)); }
  // A one-dimensional bytea[] in array_recv's format.
  void ByteaArray(const std::vector<std::string>& items);

  int count() const { return static_cast<int>(values_.size()); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  void Encoded(std::string bytes) {
    owned_.push_back(std::move(bytes));  // a deque never moves its elements
    Add(owned_.back().data(), owned_.back().size());
  }
  void Add(const char* data, size_t size) {
    values_.push_back(data);
    lengths_.push_back(static_cast<int>(size));
    formats_.push_back(1);
  }

  std::deque<std::string> owned_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
// A result that libpq allocated, freed with it.
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Typed access to the binary cells of a result. Each accessor returns
// Corruption when the cell is NULL or not of the expected wire form.
class Cells {
 public:
  explicit Cells(const PGresult* r) : r_(r) {}

  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  Status Bytes(int row, int col, std::string* out) const;
  Status Int64(int row, int col, int64_t* out) const;
  Status Int16(int row, int col, int16_t* out) const;
  Status Bool(int row, int col, bool* out) const;
  Status Kind(int row, int col, events::Kind* out) const;
  // A bytea[] of at most one dimension without NULLs.
  Status ByteaArray(int row, int col, std::vector<std::string>* out) const;

 private:
  static Status Bad() { return Status::Corruption("origin: stored value has an unexpected form"); }
  const PGresult* r_;
};

}  // namespace tempo::origin::pg

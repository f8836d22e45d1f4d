// FieldPath: the JSON path of a value being decoded, for error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace tempo::events {

// A path such as `record.variants[1].add[0].zone`, kept as a chain of frames
// on the decoder's stack and rendered only when an error is reported, so the
// happy path allocates nothing for it.
//
// A FieldPath refers to its parent and to the name it was given: both must
// outlive it (they do when paths are built as arguments of nested calls).
class FieldPath {
 public:
  // A top-level path: `name` alone.
  explicit FieldPath(std::string_view name) : name_(name) {}

  // `<this>.<name>`.
  FieldPath Field(std::string_view name) const { return FieldPath(this, name, kNoIndex); }
  // `<this>[<index>]`.
  FieldPath Index(size_t index) const { return FieldPath(this, {}, index); }

  // The rendered path.
  std::string ToString() const {
    std::string out;
    AppendTo(&out);
    return out;
  }

  // InvalidArgument "<path>: <reason>".
  Status Invalid(std::string_view reason) const {
    std::string msg = ToString();
    msg.append(": ");
    msg.append(reason);
    return Status::InvalidArgument(std::move(msg));
  }

 private:
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);

  FieldPath(const FieldPath* parent, std::string_view name, size_t index)
      : parent_(parent), name_(name), index_(index) {}

  void AppendTo(std::string* out) const {
    if (parent_ != nullptr) parent_->AppendTo(out);
    if (index_ != kNoIndex) {
      out->push_back('[');
      out->append(std::to_string(index_));
      out->push_back(']');
      return;
    }
    if (parent_ != nullptr) out->push_back('.');
    out->append(name_);
  }

  const FieldPath* parent_ = nullptr;
  std::string_view name_;
  size_t index_ = kNoIndex;
};

}  // namespace tempo::events

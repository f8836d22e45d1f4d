// TextBuffer: a string builder that stays on the stack for short text, so
// that evaluating a condition does not allocate in the common case.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace tempo::cond {

class TextBuffer {
 public:
  TextBuffer() = default;
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;

  void append(std::string_view s) {
    if (!on_heap_ && size_ + s.size() <= kInlineBytes) {
      std::memcpy(inline_ + size_, s.data(), s.size());
      size_ += s.size();
      return;
    }
    if (!on_heap_) {
      heap_.assign(inline_, size_);
      on_heap_ = true;
    }
    heap_.append(s);
  }
  void push_back(char c) { append(std::string_view(&c, 1)); }

  // Valid until the next append.
  std::string_view view() const {
    return on_heap_ ? std::string_view(heap_) : std::string_view(inline_, size_);
  }

 private:
  // Version strings and numbers fit; longer text moves to the heap.
  static constexpr size_t kInlineBytes = 120;

  char inline_[kInlineBytes];
  size_t size_ = 0;
  bool on_heap_ = false;
  std::string heap_;
};

}  // namespace tempo::cond

// A short list of pointers that keeps its first one inline: a text client is
// in exactly one room, and a vector<room*> of one cost it a 32-byte heap
// block (issue 16, memory per connection).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace chatgate {

template <class T>
class pointer_list {
 public:
  pointer_list() = default;
  ~pointer_list() {
    if (cap_ > 1) delete[] many_;
  }
  pointer_list(const pointer_list&) = delete;
  pointer_list& operator=(const pointer_list&) = delete;

  T** begin() { return cap_ > 1 ? many_ : &one_; }
  T** end() { return begin() + size_; }
  T* const* begin() const { return cap_ > 1 ? many_ : &one_; }
  T* const* end() const { return begin() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* front() const { return *begin(); }
  T* back() const { return begin()[size_ - 1]; }

  void push_back(T* p) {
    if (size_ == cap_) {
      const std::uint32_t cap = cap_ == 1 ? 4 : cap_ * 2;
      T** grown = new T*[cap];
      std::copy(begin(), end(), grown);
      if (cap_ > 1) delete[] many_;
      many_ = grown;
      cap_ = cap;
    }
    begin()[size_++] = p;
  }

  // Keeps the order of the rest.
  void erase(T* const* at) {
    T** first = begin();
    const std::size_t i = static_cast<std::size_t>(at - first);
    std::copy(first + i + 1, first + size_, first + i);
    --size_;
    if (cap_ > 1 && size_ <= 1) {
      // Back inline: a client that left its extra rooms holds no block.
      T* only = size_ ? many_[0] : nullptr;
      delete[] many_;
      one_ = only;
      cap_ = 1;
    }
  }

 private:
  union {
    T* one_ = nullptr;  // cap_ == 1
    T** many_;          // cap_ > 1
  };
  std::uint32_t size_ = 0;
  std::uint32_t cap_ = 1;
};

}  // namespace chatgate

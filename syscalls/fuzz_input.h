// The fuzzers' program reader (dispatch_fuzzer, peer_fuzzer): their inputs are programs read
// byte by byte, and past the end they read zeroes, so that every input is a whole program.
#ifndef SYSCALLS_FUZZ_INPUT_H_
#define SYSCALLS_FUZZ_INPUT_H_

#include <stddef.h>
#include <stdint.h>

#include <algorithm>

#include "absl/types/span.h"

namespace syscalls {

class FuzzInput {
 public:
  explicit FuzzInput(absl::Span<const uint8_t> bytes) : bytes_(bytes) {}

  bool empty() const { return bytes_.empty(); }
  uint8_t Byte() {
    if (bytes_.empty()) return 0;
    uint8_t b = bytes_[0];
    bytes_.remove_prefix(1);
    return b;
  }
  // Little-endian.
  uint16_t U16() {
    const uint16_t low = Byte();
    return static_cast<uint16_t>(low | Byte() << 8);
  }
  uint32_t U32() {
    const uint32_t low = U16();
    return low | static_cast<uint32_t>(U16()) << 16;
  }
  uint64_t U64() {
    const uint64_t low = U32();
    return low | static_cast<uint64_t>(U32()) << 32;
  }
  // Up to `size` bytes of the program, fewer at its end.
  absl::Span<const uint8_t> Bytes(size_t size) {
    absl::Span<const uint8_t> taken = bytes_.subspan(0, std::min(size, bytes_.size()));
    bytes_.remove_prefix(taken.size());
    return taken;
  }

 private:
  absl::Span<const uint8_t> bytes_;
};

}  // namespace syscalls

#endif  // SYSCALLS_FUZZ_INPUT_H_

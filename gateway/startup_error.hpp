// A start-up failure (SPEC 9): main prints what() as one stderr line naming
// what failed (listener, address and port, flag, file and reason) and exits 2.
#pragma once

#include <stdexcept>

namespace chatgate {

struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace chatgate

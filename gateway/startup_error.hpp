// What fails at start-up (SPEC 9): one line naming what and why; main
// prints it to stderr and exits 2.
#pragma once

#include <stdexcept>

namespace chatgate {

struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace chatgate

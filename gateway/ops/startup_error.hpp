// What start-up code throws when the server cannot start (SPEC 9): a
// listener that cannot bind, a bad flag, a file that cannot be opened. The
// message is one line naming what failed and why; main prints it on stderr
// and exits with status 2.
#pragma once

#include <stdexcept>

namespace chatgate {

struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace chatgate

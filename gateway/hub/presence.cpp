#include "gateway/hub/presence.hpp"

namespace chatgate {

protocol::ev::presence presence_tally::take(const std::string& room, std::size_t members) {
  protocol::ev::presence e{room, members, joined_, left_};
  joined_ = left_ = 0;
  return e;
}

}  // namespace chatgate

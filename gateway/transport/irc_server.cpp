#include "gateway/transport/irc_server.hpp"

#include "gateway/transport/irc_session.hpp"

namespace chatgate {

template class stream_listener<irc_listener>;

}  // namespace chatgate

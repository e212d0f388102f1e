#include "gateway/transport/tcp_server.hpp"

#include "gateway/transport/tcp_session.hpp"

namespace chatgate {

template class stream_listener<tcp_chat_listener>;

}  // namespace chatgate

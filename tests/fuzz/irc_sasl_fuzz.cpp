// Any AUTHENTICATE parameters through the SASL reader and the PLAIN
// decoder: the payload stays within its cap; what decodes has three fields.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/irc_sasl.hpp"

using namespace chatgate::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  sasl_reader r;
  // Newline-separated parameters, as the client's lines would carry them.
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view param = rest.substr(0, end);
    if (r.feed(param) == sasl_step::done) {
      if (auto p = decode_sasl_plain(r.payload()); p && p->password.empty()) __builtin_trap();
      r.reset();
    }
    if (r.payload().size() > sasl_max_payload) __builtin_trap();
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return 0;
}

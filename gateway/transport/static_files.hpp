// The page and its assets: embedded, or from --web-root while developing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chatgate {

struct static_file {
  std::string body;
  std::string content_type;
};

// `target` is the request path ("/" means "/index.html"); a query string is
// ignored. Paths that climb out of the root are never served.
std::optional<static_file> find_static_file(std::string_view target, const std::string& web_root);

std::string_view content_type_for(std::string_view path);

}  // namespace chatgate

#include "gateway/transport/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gateway/transport/web_assets.hpp"

namespace chatgate {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_safe(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  if (path.find("..") != std::string_view::npos) return false;
  return path.find('\\') == std::string_view::npos && path.find('\0') == std::string_view::npos;
}

}  // namespace

std::string_view content_type_for(std::string_view path) {
  if (ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (ends_with(path, ".js") || ends_with(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (ends_with(path, ".svg")) return "image/svg+xml";
  if (ends_with(path, ".png")) return "image/png";
  if (ends_with(path, ".ico")) return "image/x-icon";
  if (ends_with(path, ".json") || ends_with(path, ".webmanifest")) return "application/json";
  if (ends_with(path, ".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::optional<static_file> find_static_file(std::string_view target, const std::string& web_root) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path == "/") path = "/index.html";
  if (!is_safe(path)) return std::nullopt;
  const std::string type(content_type_for(path));
  if (!web_root.empty()) {
    // A folder opens as a stream that reads nothing: only files are served.
    const std::string file = web_root + std::string(path);
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    return static_file{body.str(), type};
  }
  for (std::size_t i = 0; i < web_asset_count; ++i)
    if (web_assets[i].path == path) return static_file{std::string(web_assets[i].body), type};
  return std::nullopt;
}

}  // namespace chatgate

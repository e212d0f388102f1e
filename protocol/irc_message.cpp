#include "protocol/irc_message.hpp"

#include <algorithm>

namespace chatgate::protocol {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& ch : out)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  return out;
}

// Skips one or more spaces (modern.ircdocs: separators may repeat).
void skip_spaces(std::string_view& s) {
  const std::size_t n = s.find_first_not_of(' ');
  s.remove_prefix(n == std::string_view::npos ? s.size() : n);
}

std::string_view take_word(std::string_view& s) {
  const std::size_t sp = s.find(' ');
  std::string_view word = s.substr(0, sp);
  s.remove_prefix(sp == std::string_view::npos ? s.size() : sp);
  return word;
}

}  // namespace

const std::string* irc_message::tag(std::string_view key) const {
  for (const auto& [k, v] : tags)
    if (k == key) return &v;
  return nullptr;
}

std::string escape_tag_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char ch : raw) {
    switch (ch) {
      case ';': out += "\\:"; break;
      case ' ': out += "\\s"; break;
      case '\\': out += "\\\\"; break;
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string unescape_tag_value(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    const char ch = escaped[i];
    if (ch != '\\') {
      out += ch;
      continue;
    }
    if (++i == escaped.size()) break;  // a lone trailing '\' is dropped
    switch (escaped[i]) {
      case ':': out += ';'; break;
      case 's': out += ' '; break;
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      default: out += escaped[i];  // "\\" and unknown escapes: the character
    }
  }
  return out;
}

irc_parse_result parse_irc(std::string_view line) {
  irc_parse_result r;
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (!line.empty() && line.front() == '@') {
    const std::size_t sp = line.find(' ');
    const std::size_t tags_end = sp == std::string_view::npos ? line.size() : sp + 1;
    if (tags_end > irc_max_tags) {
      r.status = irc_parse_status::tags_too_long;
      return r;
    }
    std::string_view tags = line.substr(1, (sp == std::string_view::npos ? line.size() : sp) - 1);
    line.remove_prefix(tags_end);
    while (!tags.empty()) {
      const std::size_t semi = tags.find(';');
      std::string_view one = tags.substr(0, semi);
      tags.remove_prefix(semi == std::string_view::npos ? tags.size() : semi + 1);
      if (one.empty()) continue;
      const std::size_t eq = one.find('=');
      std::string key(one.substr(0, eq));
      std::string value = eq == std::string_view::npos ? std::string() : unescape_tag_value(one.substr(eq + 1));
      // A repeated key: the last one wins (message-tags).
      auto it = std::find_if(r.message.tags.begin(), r.message.tags.end(),
                             [&](const auto& kv) { return kv.first == key; });
      if (it != r.message.tags.end())
        it->second = std::move(value);
      else
        r.message.tags.emplace_back(std::move(key), std::move(value));
    }
  }
  skip_spaces(line);
  // 512 bytes with the CRLF this line had.
  if (line.size() + 2 > irc_max_body) {
    r.status = irc_parse_status::body_too_long;
    return r;
  }
  if (line.empty()) {
    r.status = r.message.tags.empty() ? irc_parse_status::empty : irc_parse_status::no_command;
    return r;
  }
  if (line.front() == ':') {
    line.remove_prefix(1);
    r.message.source = std::string(take_word(line));
    skip_spaces(line);
    // ": PRIVMSG" names no source: malformed, not a command called ':'.
    if (r.message.source.empty()) {
      r.status = irc_parse_status::no_command;
      return r;
    }
  }
  const std::string_view command = take_word(line);
  if (command.empty() || command.front() == ':' || command.front() == '@') {
    r.status = irc_parse_status::no_command;
    return r;
  }
  r.message.command = upper(command);
  for (;;) {
    skip_spaces(line);
    if (line.empty()) break;
    if (line.front() == ':') {
      r.message.params.emplace_back(line.substr(1));
      r.message.trailing = true;
      break;
    }
    r.message.params.emplace_back(take_word(line));
  }
  r.status = irc_parse_status::ok;
  return r;
}

std::string serialize_irc(const irc_message& m) {
  std::string out;
  if (!m.tags.empty()) {
    out += '@';
    bool first = true;
    for (const auto& [k, v] : m.tags) {
      if (!first) out += ';';
      first = false;
      out += k;
      if (!v.empty()) {
        out += '=';
        out += escape_tag_value(v);
      }
    }
    out += ' ';
  }
  if (!m.source.empty()) {
    out += ':';
    out += m.source;
    out += ' ';
  }
  out += m.command;
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    const std::string& p = m.params[i];
    out += ' ';
    const bool last = i + 1 == m.params.size();
    if (last && (m.trailing || p.empty() || p.find(' ') != std::string::npos || p.front() == ':')) out += ':';
    out += p;
  }
  out += "\r\n";
  return out;
}

std::vector<std::string_view> split_utf8(std::string_view text, std::size_t max) {
  std::vector<std::string_view> out;
  if (max == 0) return out;
  while (text.size() > max) {
    std::size_t cut = max;
    // Back off continuation bytes (10xxxxxx) so a sequence stays whole.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    if (cut == 0) cut = max;
    out.push_back(text.substr(0, cut));
    text.remove_prefix(cut);
  }
  if (!text.empty() || out.empty()) out.push_back(text);
  return out;
}

}  // namespace chatgate::protocol

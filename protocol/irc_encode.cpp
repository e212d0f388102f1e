#include "protocol/irc_encode.hpp"

#include <cstdio>
#include <ctime>

#include "protocol/irc_message.hpp"

namespace chatgate::protocol {

const char* const irc_server_name = "chatgate";

namespace {

std::string ref_field(const ref_value& ref, const char* key) {
  if (!ref.is_object()) return {};
  auto it = ref.find(key);
  return it != ref.end() && it->is_string() ? it->get<std::string>() : std::string();
}

struct out {
  std::string s;
  void line(irc_message m) {
    const std::string& c = m.command;
    if (c == "PRIVMSG" || c == "NOTICE" || c == "TOPIC" || c == "ERROR") m.trailing = true;
    s += serialize_irc(m);
  }
  void numeric(const char* code, const std::string& me, std::vector<std::string> params) {
    irc_message m{{}, irc_server_name, code, {}};
    m.params.push_back(me.empty() ? "*" : me);
    for (auto& p : params) m.params.push_back(std::move(p));
    m.trailing = true;
    line(std::move(m));
  }
};

void message_lines(out& o, const chat_message& m, bool tagged) {
  const std::string source = irc_mask(m.from, m.source);
  const std::string target = m.to.empty() ? "#" + m.room : m.to;
  // ":source PRIVMSG target :" plus CTCP framing must leave room in 510.
  std::size_t overhead = 1 + source.size() + 9 + target.size() + 2 + (m.me ? 9 : 0);
  const std::size_t room = overhead < 400 ? 510 - overhead : 110;
  for (std::string_view piece : split_utf8(m.text, room)) {
    irc_message line{{}, source, "PRIVMSG", {target, {}}};
    if (tagged && m.ts != 0) line.tags.emplace_back("time", irc_time(m.ts));
    line.params[1] = m.me ? "\x01" "ACTION " + std::string(piece) + "\x01" : std::string(piece);
    // A message of spaces must stay one trailing param.
    o.line(std::move(line));
  }
}

void error_lines(out& o, const ev::error& e, const std::string& me, const std::string& target) {
  const std::string t = target.empty() ? "*" : target;
  switch (e.code) {
    case error_code::bad_room: return o.numeric("403", me, {t, "No such channel (channels are # and 1-32 of a-z 0-9 _ -)"});
    case error_code::not_in_room: return o.numeric("442", me, {t, "You're not on that channel"});
    case error_code::no_such_nick: return o.numeric("401", me, {t, "No such nick/channel"});
    case error_code::bad_nick:
      return o.numeric("432", me, {t, "Erroneous nickname: use 1-24 of A-Z a-z 0-9 _ -"});
    case error_code::nick_taken: return o.numeric("433", me, {t, "Nickname is already in use"});
    case error_code::too_long: return o.numeric("417", me, {"Input line was too long"});
    default: {
      // rate_limited, bad_request, unavailable, bad_token: a server NOTICE
      // naming chatgate's error code, which every client shows.
      irc_message m{{}, irc_server_name, "NOTICE", {me.empty() ? "*" : me, std::string(to_string(e.code)) + ": " + e.message}};
      return o.line(std::move(m));
    }
  }
}

}  // namespace

ref_value irc_ref(const std::string& kind, const std::string& me, const std::string& target) {
  ref_value r = ref_value::object();
  r["irc"] = kind;
  r["me"] = me;
  if (!target.empty()) r["target"] = target;
  return r;
}

std::string irc_mask(const std::string& nick, via source) {
  return nick + "!" + to_string(source) + "@" + irc_server_name;
}

std::string irc_time(std::int64_t ts_ms) {
  const std::time_t secs = static_cast<std::time_t>(ts_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts_ms % 1000));
  return buf;
}

std::string encode_irc(const event& e, const ref_value& ref, bool tagged) {
  out o;
  const std::string kind = ref_field(ref, "irc");
  const std::string me = ref_field(ref, "me");
  const std::string target = ref_field(ref, "target");
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, ev::welcome>) {
          const std::string& n = x.nick;
          o.numeric("001", n, {"Welcome to chatgate, " + n + " (WebSocket, TCP and UDP users are here too)"});
          o.numeric("002", n, {std::string("Your host is chatgate, running ") + server_name});
          o.numeric("003", n, {"This server has rooms, not modes: channels are chatgate's rooms"});
          o.numeric("004", n, {irc_server_name, server_name, "i", "n"});
          o.numeric("005", n, {"CHANTYPES=#", "NICKLEN=24", "CHANNELLEN=33", "CASEMAPPING=ascii",
                               "PREFIX=()", "CHANMODES=,,,n", "NETWORK=chatgate", "are supported by this server"});
          o.numeric("375", n, {"- chatgate message of the day -"});
          o.numeric("372", n, {"- Nicks: 1-24 characters of A-Z a-z 0-9 _ - (no [ ] \\ ` ^ { | })"});
          o.numeric("372", n, {"- Channels: # and 1-32 characters of a-z 0-9 _ - (lower case)"});
          o.numeric("372", n, {"- Others appear as nick!ws@chatgate, nick!tcp@chatgate, nick!udp@chatgate"});
          o.numeric("376", n, {"End of /MOTD command"});
          for (const std::string& r : x.rooms) o.line({{}, irc_mask(n, via::irc), "JOIN", {"#" + r}});
        } else if constexpr (std::is_same_v<T, ev::message>) {
          message_lines(o, *x.msg->msg, tagged);
        } else if constexpr (std::is_same_v<T, ev::history>) {
          for (const stored_ptr& m : x.messages) message_lines(o, *m, tagged);
        } else if constexpr (std::is_same_v<T, ev::joined>) {
          o.line({{}, irc_mask(x.nick, x.source), "JOIN", {"#" + x.room}});
        } else if constexpr (std::is_same_v<T, ev::left>) {
          o.line({{}, irc_mask(x.nick, x.source), "PART", {"#" + x.room}});
        } else if constexpr (std::is_same_v<T, ev::nick>) {
          o.line({{}, x.old_nick, "NICK", {x.nick}});
        } else if constexpr (std::is_same_v<T, ev::rooms>) {
          o.numeric("321", me, {"Channel", "Users  Name"});
          for (const ev::room_info& r : x.rooms)
            o.numeric("322", me, {"#" + r.room, std::to_string(r.members), r.topic});
          o.numeric("323", me, {"End of /LIST"});
        } else if constexpr (std::is_same_v<T, ev::who>) {
          const std::string chan = "#" + x.room;
          if (kind == "who") {
            for (const auto& [nick, source] : x.members)
              o.numeric("352", me, {chan, to_string(source), irc_server_name, irc_server_name, nick, "H",
                                    "0 " + nick});
            o.numeric("315", me, {chan, "End of /WHO list"});
          } else {
            // NAMES, in as many 353 lines as 512 bytes allow.
            std::string names;
            for (const auto& [nick, source] : x.members) {
              if (!names.empty() && names.size() + nick.size() + 1 > 400) {
                o.numeric("353", me, {"=", chan, names});
                names.clear();
              }
              if (!names.empty()) names += ' ';
              names += nick;
            }
            if (!names.empty()) o.numeric("353", me, {"=", chan, names});
            o.numeric("366", me, {chan, "End of /NAMES list"});
          }
        } else if constexpr (std::is_same_v<T, ev::error>) {
          error_lines(o, x, me, target);
        } else if constexpr (std::is_same_v<T, ev::topic>) {
          const std::string chan = "#" + x.room;
          if (kind == "join" || kind == "topic") {
            if (x.topic.empty()) return o.numeric("331", me, {chan, "No topic is set"});
            o.numeric("332", me, {chan, x.topic});
            o.numeric("333", me, {chan, x.by, std::to_string(x.ts / 1000)});
          } else {
            o.line({{}, x.by.empty() ? std::string(irc_server_name) : x.by, "TOPIC", {chan, x.topic}});
          }
        } else if constexpr (std::is_same_v<T, ev::notice>) {
          for (const std::string& l : x.lines) o.line({{}, irc_server_name, "NOTICE", {me.empty() ? "*" : me, l}});
        } else if constexpr (std::is_same_v<T, ev::bye>) {
          o.line({{}, {}, "ERROR", {"Closing link: " + x.message}});
        }
      },
      e);
  return std::move(o.s);
}

}  // namespace chatgate::protocol

#include "gateway/transport/irc_session.hpp"

#include <cctype>
#include <chrono>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "gateway/transport/sockets.hpp"
#include "protocol/irc_encode.hpp"
#include "protocol/jwt.hpp"
#include "protocol/names.hpp"

namespace chatgate {
namespace {

using protocol::irc_message;
namespace req = protocol::req;

// Lines a client may send before it is registered; beyond, it is dropped
// (the hub's rate limit does not apply yet).
constexpr unsigned max_unregistered_lines = 64;
constexpr const char* supported_caps = "server-time message-tags echo-message";

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const std::size_t at = s.find(sep);
    if (at != 0) out.emplace_back(s.substr(0, at));
    if (at == std::string_view::npos) break;
    s.remove_prefix(at + 1);
  }
  return out;
}

// "#Lobby" -> "lobby"; null for what is not one of chatgate's rooms.
std::optional<std::string> channel_room(const std::string& channel) {
  if (channel.empty() || channel.front() != '#') return std::nullopt;
  return protocol::normalize_room(channel);
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

irc_session::irc_session(asio::ip::tcp::socket socket, session_context& ctx)
    : stream_session(std::move(socket), ctx, peer_text(socket), "irc"), framer_(protocol::irc_max_line) {}

irc_session::irc_session(std::unique_ptr<tls_stream> tls, tls_context_ptr keep, session_context& ctx)
    : stream_session(std::move(tls), std::move(keep), ctx, peer_text(tls->next_layer()), "irc-tls"),
      framer_(protocol::irc_max_line) {}

void irc_session::start() {
  last_input_ = std::chrono::steady_clock::now();
  begin_unattached();
  arm_ping();
}

// --- input ------------------------------------------------------------------

void irc_session::on_bytes(char* data, std::size_t size) {
  last_input_ = std::chrono::steady_clock::now();
  awaiting_pong_ = false;  // any line shows the client is alive
  framer_.feed(
      std::string_view(data, size), [this](std::string_view line) { return on_line(line); },
      [this] {
        reply("417", {"Input line was too long"});
        return !closing_;
      });
}

void irc_session::on_end_of_input() {
  framer_.flush([this](std::string_view line) { return on_line(line); });
  close();
}

bool irc_session::on_line(std::string_view line) {
  if (closing_) return false;
  protocol::irc_parse_result parsed = protocol::parse_irc(line);
  switch (parsed.status) {
    case protocol::irc_parse_status::empty: return true;
    case protocol::irc_parse_status::no_command: return true;
    case protocol::irc_parse_status::tags_too_long:
    case protocol::irc_parse_status::body_too_long: reply("417", {"Input line was too long"}); return !closing_;
    case protocol::irc_parse_status::ok: break;
  }
  if (!registered_) {
    if (++unregistered_lines_ > max_unregistered_lines) {
      send_line({{}, {}, "ERROR", {"Closing link: too many lines before registration"}});
      finish();
      return false;
    }
    on_registration(parsed.message);
  } else {
    on_message(parsed.message);
  }
  return !closing_;
}

void irc_session::on_registration(const irc_message& m) {
  const std::string& c = m.command;
  if (c == "CAP") return cap(m);
  if (c == "AUTHENTICATE") return authenticate(m);
  // Without --auth-secret a server password (many clients send one) is
  // ignored; with it, PASS is a token, checked at registration (SPEC 14).
  if (c == "PASS") {
    if (!ctx_.cfg.auth_secret.empty() && !m.params.empty()) pass_ = m.params[0];
    return;
  }
  if (c == "PING") return send_line({{}, protocol::irc_server_name, "PONG", {protocol::irc_server_name, m.params.empty() ? "" : m.params[0]}});
  if (c == "PONG") return;
  if (c == "QUIT") {
    send_line({{}, {}, "ERROR", {"Closing link: bye"}});
    return finish();
  }
  if (c == "NICK") {
    if (m.params.empty() || m.params[0].empty()) return reply("431", {"No nickname given"});
    const std::string& n = m.params[0];
    if (!protocol::is_valid_nick(n))
      return reply("432", {n, "Erroneous nickname: use 1-24 of A-Z a-z 0-9 _ -"});
    if (ctx_.chat.nick_in_use(n)) return reply("433", {n, "Nickname is already in use"});
    nick_ = n;
    return try_register();
  }
  if (c == "USER") {
    if (m.params.size() < 4) return reply("461", {"USER", "Not enough parameters"});
    got_user_ = true;
    return try_register();
  }
  reply("451", {"You have not registered"});
}

void irc_session::try_register() {
  if (registered_ || claiming_ || nick_.empty() || !got_user_ || cap_negotiating_) return;
  if (ctx_.chat.full()) {
    ctx_.stats.count_drop(drop_reason::server_full);
    send_line({{}, {}, "ERROR", {"Closing link: server full"}});
    return finish();
  }
  if (ctx_.chat.nick_in_use(nick_)) {
    reply("433", {nick_, "Nickname is already in use"});
    nick_.clear();
    return;
  }
  // A token proved by SASL wins over a PASS.
  std::string token = sasl_token_.empty() ? std::move(pass_) : std::move(sasl_token_);
  const auto checked = token.empty() ? protocol::token_result{}
                                     : protocol::verify_token(token, ctx_.cfg.auth_secret, now_s());
  if (ctx_.cfg.require_auth && !checked.claims) {
    // --require-auth (SPEC 13): IRC has no later /auth, so like a WebSocket
    // handshake, no good token, no entry.
    reply("464", {token.empty() ? "Password incorrect: token required (PASS or SASL PLAIN before NICK/USER)"
                                : "Password incorrect: bad token: " + checked.reason});
    send_line({{}, {}, "ERROR", {"Closing link: token required"}});
    return finish();
  }
  // In a cluster (SPEC 11) the nick must be free on every node, not only
  // here; a good token needs no claim: the client arrives as its subject.
  if (!ctx_.chat.clustered() || checked.claims) return register_now(std::move(token));
  claiming_ = true;
  auto self = std::static_pointer_cast<irc_session>(shared_from_this());
  ctx_.chat.claim_for_registration(
      nick_, [w = std::weak_ptr<irc_session>(self), nick = nick_, token = std::move(token)](cluster::outcome o) mutable {
        auto s = w.lock();
        if (!s || s->closing_ || s->stopped_) return false;
        s->claiming_ = false;
        if (s->nick_ != nick) {  // a NICK while we asked: that one now
          s->try_register();
          return false;
        }
        // A client here may have taken it while we asked.
        if (o == cluster::outcome::ok && s->ctx_.chat.nick_in_use(nick)) o = cluster::outcome::refused;
        if (o != cluster::outcome::ok) {
          s->nick_.clear();  // before the reply, which names the client "*" again
          if (o == cluster::outcome::refused)
            s->reply("433", {nick, "Nickname is already in use"});
          else  // Redis is away: the client may try again later
            s->reply("437", {nick, "Nick/channel is temporarily unavailable"});
          s->pass_ = std::move(token);  // kept for the next NICK
          return false;
        }
        s->register_now(std::move(token));
        return true;
      });
}

void irc_session::register_now(std::string token) {
  registered_ = true;
  // The hub welcomes it (001-005, MOTD, JOIN of the default room, history),
  // under the token's nick when PASS or SASL carried a good one.
  attach(protocol::via::irc, /*json=*/true, nick_, std::move(token));
  request(req::who{ctx_.cfg.default_room, ctx_.cfg.presence_limit}, "names");
}

void irc_session::on_message(const irc_message& m) {
  const std::string& c = m.command;
  const auto need = [&](std::size_t n) {
    if (m.params.size() >= n) return true;
    reply("461", {c, "Not enough parameters"});
    return false;
  };
  if (c == "PRIVMSG" || c == "NOTICE") return privmsg(m, c == "NOTICE");
  if (c == "PING") {
    if (!need(1)) return;
    return send_line({{}, protocol::irc_server_name, "PONG", {protocol::irc_server_name, m.params[0]}});
  }
  if (c == "PONG") return;
  if (c == "JOIN") return need(1) ? join(m) : void();
  if (c == "PART") return need(1) ? part(m) : void();
  if (c == "NICK") return nick(m);
  if (c == "TOPIC") return need(1) ? topic(m) : void();
  if (c == "NAMES") return names(m);
  if (c == "LIST") return request(req::rooms{}, "list");
  if (c == "WHO") return need(1) ? who(m) : void();
  if (c == "WHOIS") return need(1) ? whois(m) : void();
  if (c == "MODE") return need(1) ? mode(m) : void();
  if (c == "CAP") return cap(m);
  if (c == "AUTHENTICATE") return authenticate(m);
  if (c == "AWAY") {
    if (m.params.empty() || m.params[0].empty()) return reply("305", {"You are no longer marked as being away"});
    return reply("306", {"You have been marked as being away"});
  }
  if (c == "USER" || c == "PASS") return reply("462", {"You may not reregister"});
  if (c == "QUIT") return request(req::quit{}, "quit");
  reply("421", {c, "Unknown command"});
}

// --- commands ---------------------------------------------------------------

void irc_session::cap(const irc_message& m) {
  const std::string sub = m.params.empty() ? std::string() : m.params[0];
  if (sub == "LS") {
    if (!registered_) cap_negotiating_ = true;
    if (m.params.size() > 1 && std::atoi(m.params[1].c_str()) >= 302) cap_302_ = true;
    std::string caps = supported_caps;
    // SASL PLAIN carries a token, so it is offered only when tokens are.
    if (offered_cap("sasl")) caps += cap_302_ ? " sasl=PLAIN" : " sasl";
    return send_line({{}, protocol::irc_server_name, "CAP", {me(), "LS", caps}});
  }
  if (sub == "LIST") {
    std::string on;
    if (server_time_) on += "server-time ";
    if (message_tags_) on += "message-tags ";
    if (echo_message_) on += "echo-message ";
    if (sasl_cap_) on += "sasl ";
    if (!on.empty()) on.pop_back();
    return send_line({{}, protocol::irc_server_name, "CAP", {me(), "LIST", on}});
  }
  if (sub == "REQ") {
    if (!registered_) cap_negotiating_ = true;
    const std::string asked = m.params.size() > 1 ? m.params[1] : std::string();
    bool ok = true;
    std::vector<std::pair<std::string, bool>> changes;
    for (const std::string& word : split(asked, ' ')) {
      const bool off = word.front() == '-';
      const std::string name = off ? word.substr(1) : word;
      if (!offered_cap(name)) ok = false;
      changes.emplace_back(name, !off);
    }
    // A client's wire format is fixed once it is registered: server-time
    // can only change before that.
    for (const auto& [name, on] : changes)
      if (registered_ && name == "server-time" && on != server_time_) ok = false;
    if (!ok || changes.empty())
      return send_line({{}, protocol::irc_server_name, "CAP", {me(), "NAK", asked}});
    for (const auto& [name, on] : changes) {
      if (name == "server-time") server_time_ = on;
      if (name == "message-tags") message_tags_ = on;
      if (name == "echo-message") echo_message_ = on;
      if (name == "sasl") sasl_cap_ = on;
    }
    return send_line({{}, protocol::irc_server_name, "CAP", {me(), "ACK", asked}});
  }
  if (sub == "END") {
    cap_negotiating_ = false;
    // Registration ends an exchange still under way (sasl-3.1).
    if (sasl_started_) {
      sasl_started_ = false;
      sasl_.reset();
      reply("906", {"SASL authentication aborted"});
    }
    return try_register();
  }
  reply("410", {sub, "Invalid CAP command"});
}

bool irc_session::offered_cap(const std::string& name) const {
  if (name == "sasl") return !ctx_.cfg.auth_secret.empty();
  return name == "server-time" || name == "message-tags" || name == "echo-message";
}

// SASL PLAIN (IRCv3 sasl-3.1) with the token as the password: the
// authentication identity must be the token's sub (or empty), so a client
// configured with the wrong account name hears so instead of quietly
// becoming someone else.
void irc_session::authenticate(const irc_message& m) {
  if (m.params.empty() || m.params[0].empty()) return reply("461", {"AUTHENTICATE", "Not enough parameters"});
  if (!sasl_account_.empty()) return reply("907", {"You have already authenticated using SASL"});
  if (registered_)
    return reply("904", {"SASL authentication failed: only before registration (CAP REQ sasl, then AUTHENTICATE)"});
  if (ctx_.cfg.auth_secret.empty()) return reply("904", {"SASL authentication failed: this server accepts no tokens"});
  const std::string& arg = m.params[0];
  if (!sasl_started_) {
    if (arg == "*") return reply("906", {"SASL authentication aborted"});
    std::string mech = arg;
    for (char& ch : mech) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    if (mech != "PLAIN") {
      reply("908", {"PLAIN", "are available SASL mechanisms"});
      return reply("904", {"SASL authentication failed: mechanism " + arg + " is not supported"});
    }
    sasl_started_ = true;
    sasl_.reset();
    return send_line({{}, {}, "AUTHENTICATE", {"+"}});
  }
  switch (sasl_.feed(arg)) {
    case protocol::sasl_step::more: return;
    case protocol::sasl_step::aborted:
      sasl_started_ = false;
      return reply("906", {"SASL authentication aborted"});
    case protocol::sasl_step::chunk_too_long:
      sasl_started_ = false;
      return reply("905", {"SASL message too long"});
    case protocol::sasl_step::too_long:
      sasl_started_ = false;
      return reply("904", {"SASL authentication failed: the token is too long"});
    case protocol::sasl_step::done: return sasl_finish();
  }
}

void irc_session::sasl_finish() {
  sasl_started_ = false;
  const auto plain = protocol::decode_sasl_plain(sasl_.payload());
  sasl_.reset();
  if (!plain) return reply("904", {"SASL authentication failed: not a PLAIN message (base64 of authzid NUL authcid NUL token)"});
  const auto checked = protocol::verify_token(plain->password, ctx_.cfg.auth_secret, now_s());
  if (!checked.claims) return reply("904", {"SASL authentication failed: bad token: " + checked.reason});
  const std::string sub = protocol::fold_nick(checked.claims->sub);
  for (const std::string* id : {&plain->authcid, &plain->authzid})
    if (!id->empty() && protocol::fold_nick(*id) != sub)
      return reply("904", {"SASL authentication failed: the username must be the token's sub (" +
                           checked.claims->sub + ")"});
  sasl_account_ = checked.claims->sub;
  sasl_token_ = plain->password;
  const std::string who = nick_.empty() ? sasl_account_ : nick_;
  reply("900", {who + "!irc@" + protocol::irc_server_name, sasl_account_,
                "You are now logged in as " + sasl_account_});
  reply("903", {"SASL authentication successful"});
}

void irc_session::join(const irc_message& m) {
  for (const std::string& channel : split(m.params[0], ',')) {
    auto room = channel_room(channel);
    if (!room) {
      reply("403", {channel, "No such channel (channels are # and 1-32 of a-z 0-9 _ -)"});
      continue;
    }
    const std::string chan = "#" + *room;
    request(req::join{*room, std::nullopt}, "join", chan);
    // NAMES follows the JOIN, the topic and the history.
    if (!closing_) request(req::who{*room, ctx_.cfg.presence_limit}, "names", chan);
  }
}

void irc_session::part(const irc_message& m) {
  for (const std::string& channel : split(m.params[0], ',')) {
    auto room = channel_room(channel);
    if (!room) {
      reply("403", {channel, "No such channel"});
      continue;
    }
    request(req::leave{*room}, "part", "#" + *room);
  }
}

void irc_session::privmsg(const irc_message& m, bool notice) {
  if (m.params.empty() || m.params[0].empty()) return notice ? void() : reply("411", {"No recipient given (" + m.command + ")"});
  if (m.params.size() < 2 || m.params[1].empty()) return notice ? void() : reply("412", {"No text to send"});
  std::string text = m.params[1];
  bool me_action = false;
  if (!text.empty() && text.front() == '\x01') {
    // CTCP: ACTION is chatgate's /me; other CTCP queries have no meaning here.
    std::string body = text.substr(1);
    if (!body.empty() && body.back() == '\x01') body.pop_back();
    if (body.rfind("ACTION ", 0) != 0) return;
    text = body.substr(7);
    me_action = true;
  }
  for (const std::string& target : split(m.params[0], ',')) {
    if (target.front() == '#') {
      auto room = channel_room(target);
      if (!room) {
        if (!notice) reply("403", {target, "No such channel"});
        continue;
      }
      request(req::say{*room, text, me_action}, "say", "#" + *room);
    } else {
      if (!protocol::is_valid_nick(target)) {
        if (!notice) reply("401", {target, "No such nick/channel"});
        continue;
      }
      request(req::say{{}, text, me_action, target}, "say", target);
    }
  }
}

void irc_session::nick(const irc_message& m) {
  if (m.params.empty() || m.params[0].empty()) return reply("431", {"No nickname given"});
  const std::string& n = m.params[0];
  if (!protocol::is_valid_nick(n)) return reply("432", {n, "Erroneous nickname: use 1-24 of A-Z a-z 0-9 _ -"});
  request(req::nick{n}, "nick", n);
}

void irc_session::topic(const irc_message& m) {
  auto room = channel_room(m.params[0]);
  if (!room) return reply("403", {m.params[0], "No such channel"});
  if (m.params.size() < 2) return request(req::topic{*room, std::nullopt}, "topic", "#" + *room);
  request(req::topic{*room, m.params[1]}, "settopic", "#" + *room);
}

void irc_session::names(const irc_message& m) {
  if (m.params.empty()) return reply("366", {"*", "End of /NAMES list"});
  for (const std::string& channel : split(m.params[0], ',')) {
    auto room = channel_room(channel);
    if (!room) {
      reply("366", {channel, "End of /NAMES list"});
      continue;
    }
    request(req::who{*room}, "names", "#" + *room);
  }
}

void irc_session::who(const irc_message& m) {
  const std::string& mask = m.params[0];
  if (auto room = channel_room(mask)) return request(req::who{*room}, "who", "#" + *room);
  if (auto p = ctx_.chat.whois(mask)) {
    const std::string chan = p->rooms.empty() ? "*" : "#" + p->rooms.front();
    reply("352", {chan, protocol::to_string(p->source), protocol::irc_server_name, protocol::irc_server_name,
                  p->nick, "H", "0 " + p->nick});
  }
  reply("315", {mask, "End of /WHO list"});
}

void irc_session::whois(const irc_message& m) {
  // "WHOIS server nick" names the nick last.
  const std::string& target = m.params.back();
  for (const std::string& n : split(target, ',')) {
    if (auto p = ctx_.chat.whois(n)) {
      reply("311", {p->nick, protocol::to_string(p->source), protocol::irc_server_name, "*", p->nick});
      std::string chans;
      for (const std::string& r : p->rooms) chans += (chans.empty() ? "#" : " #") + r;
      if (!chans.empty()) reply("319", {p->nick, chans});
      reply("312", {p->nick, protocol::irc_server_name, std::string("chatgate, via ") + protocol::to_string(p->source)});
    } else {
      reply("401", {n, "No such nick/channel"});
    }
    reply("318", {n, "End of /WHOIS list"});
  }
}

void irc_session::mode(const irc_message& m) {
  const std::string& target = m.params[0];
  if (!target.empty() && target.front() == '#') {
    auto room = channel_room(target);
    if (!room) return reply("403", {target, "No such channel"});
    const std::string chan = "#" + *room;
    if (m.params.size() < 2) return reply("324", {chan, "+n"});
    const std::string& modes = m.params[1];
    // Ban-list queries (irssi asks on join) get an empty list.
    if (modes == "b" || modes == "+b") return reply("368", {chan, "End of channel ban list"});
    return reply("482", {chan, "You're not channel operator (chatgate has no channel modes)"});
  }
  const std::string* mine = ctx_.chat.nick_of(id_);
  if (!mine || protocol::fold_nick(*mine) != protocol::fold_nick(target))
    return reply("502", {"Cant change mode for other users"});
  if (m.params.size() < 2) return reply("221", {"+"});
  reply("501", {"Unknown MODE flag (chatgate has no user modes)"});
}

// --- output -----------------------------------------------------------------

std::string irc_session::me() const {
  if (registered_)
    if (const std::string* n = ctx_.chat.nick_of(id_)) return *n;
  return nick_.empty() ? "*" : nick_;
}

void irc_session::request(protocol::request_body body, const std::string& kind, const std::string& target) {
  ctx_.chat.handle(id_, protocol::request{std::move(body), protocol::irc_ref(kind, me(), target)});
}

void irc_session::reply(const char* numeric, std::vector<std::string> params) {
  irc_message m{{}, protocol::irc_server_name, numeric, {me()}};
  for (auto& p : params) m.params.push_back(std::move(p));
  m.trailing = true;
  send_line(std::move(m));
}

void irc_session::send_line(irc_message m) {
  deliver(std::make_shared<const std::string>(protocol::serialize_irc(m)));
}

// --- keepalive --------------------------------------------------------------

void irc_session::arm_ping() {
  if (!ping_timer_) ping_timer_ = std::make_unique<asio::steady_timer>(executor());
  ping_timer_->expires_at(last_input_ + std::chrono::seconds(ctx_.cfg.irc_ping_s));
  ping_timer_->async_wait([self = shared_from_this(), this](std::error_code ec) { on_ping_timer(ec); });
}

void irc_session::on_ping_timer(std::error_code ec) {
  if (ec || stopped_ || closing_) return;
  const auto silent_until = last_input_ + std::chrono::seconds(ctx_.cfg.irc_ping_s);
  if (std::chrono::steady_clock::now() < silent_until) return arm_ping();  // heard from since
  if (awaiting_pong_) {
    spdlog::info("irc {} dropped: no PONG in {} s (client {})", peer_, ctx_.cfg.irc_ping_s, id_);
    send_line({{}, {}, "ERROR", {"Closing link: ping timeout"}});
    return finish();
  }
  send_line({{}, {}, "PING", {protocol::irc_server_name}});
  // One more period of silence and it is gone.
  last_input_ = std::chrono::steady_clock::now();
  awaiting_pong_ = true;
  arm_ping();
}

}  // namespace chatgate

#include "client/options.hpp"

#include <cctype>
#include <iostream>

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "client/tls.hpp"
#include "protocol/jwt.hpp"
#include "protocol/names.hpp"
#include "protocol/version.hpp"

namespace chatgate::client {
namespace {

constexpr int usage_status = 2;
constexpr std::size_t max_udp_payload = 65507;
constexpr std::size_t max_tcp_probe = 1 << 20;

bool is_port(const std::string& s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  const unsigned long n = std::stoul(s);
  return n >= 1 && n <= 65535;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits "HOST:PORT" or "[V6]:PORT"; the port may be missing.
bool split_host_port(const std::string& text, std::string& host, std::string& port) {
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    const std::string rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? "" : rest.substr(1);
    return !host.empty();
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    host = text;
    port.clear();
  } else {
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return false;  // a bare IPv6 needs brackets
  }
  return !host.empty();
}

std::string bracketed(const std::string& host) {
  return host.find(':') == std::string::npos ? host : "[" + host + "]";
}

struct raw_options {
  std::string tcp, udp, ws;
  bool tls = false;
  std::string ca;
  bool insecure = false;
};

void add_target_options(CLI::App& cmd, raw_options& raw, bool with_ws, const char* default_to) {
  auto* tcp = cmd.add_option("--tcp", raw.tcp, std::string("talk over TCP (default ") + default_to + ")")
                  ->type_name("HOST:PORT");
  auto* udp = cmd.add_option("--udp", raw.udp, "talk over UDP")->type_name("HOST:PORT");
  udp->excludes(tcp);
  if (with_ws) {
    auto* ws = cmd.add_option("--ws", raw.ws, "talk over WebSocket (the JSON protocol)")
                   ->type_name("ws://HOST:PORT/ws");
    ws->excludes(tcp)->excludes(udp);
    // TLS and tokens are for chat (SPEC 13); the echo port has neither.
    cmd.add_flag("--tls", raw.tls, "speak TLS to the TCP chat port (the server's --tls-tcp-port, 7443)")
        ->excludes(udp)->excludes(ws);
    cmd.add_option("--ca", raw.ca, "trust the server's certificate if FILE's CA signed it (PEM), "
                                   "instead of the system's CAs")->type_name("FILE");
    cmd.add_flag("--insecure", raw.insecure, "TLS without checking the server's certificate (testing only)");
  }
}

// --ca and --insecure go with a TLS target; a --ca file must hold a CA.
std::string with_tls(const raw_options& raw, target& to) {
  if ((!raw.ca.empty() || raw.insecure) && !to.tls)
    return std::string(raw.insecure ? "--insecure" : "--ca") + " is for TLS: use it with --tls or a wss:// URL";
  if (!raw.ca.empty() && raw.insecure) return "--ca and --insecure contradict each other: choose one";
  to.ca_file = raw.ca;
  to.insecure = raw.insecure;
  if (!to.tls || to.ca_file.empty()) return {};
  std::string error;
  if (!make_tls_context(to, error)) return error;
  return {};
}

// Turns the raw transport options into a target; an error message when wrong.
std::string resolve_target(const raw_options& raw, const char* default_to, target& to) {
  if (!raw.ws.empty()) {
    std::string error;
    auto t = parse_ws_url(raw.ws, error);
    if (!t) return "--ws: " + error;
    to = *t;
    return with_tls(raw, to);
  }
  const bool udp = !raw.udp.empty();
  const std::string& text = udp ? raw.udp : (raw.tcp.empty() ? default_to : raw.tcp);
  auto t = parse_host_port(text, udp ? transport::udp : transport::tcp);
  if (!t) return std::string(udp ? "--udp" : "--tcp") + ": expected HOST:PORT, got \"" + text + "\"";
  to = *t;
  to.tls = raw.tls;
  return with_tls(raw, to);
}

std::string check_chat(options& o) {
  if (!o.nick.empty() && !protocol::is_valid_nick(o.nick))
    return "--nick: a nick is 1-24 characters of A-Z a-z 0-9 _ -";
  if (!o.room.empty() && !protocol::normalize_room(o.room))
    return "--room: a room is 1-32 characters of a-z 0-9 _ - (an optional leading #)";
  if (o.json && o.to.kind == transport::udp)
    return "--json needs --tcp or --ws: UDP speaks text only";
  if (o.rate < 0) return "--rate must be 0 (no pacing) or more";
  if (!o.token.empty()) {
    auto sub = token_subject(o.token);
    if (!sub) return "--token: not a JSON Web Token with a valid nick as sub (HEADER.PAYLOAD.SIGNATURE)";
    if (!o.nick.empty()) return "--token and --nick contradict each other: the token's sub is the nick";
    o.token_nick = *sub;
    if (o.to.kind == transport::ws) o.to.token = o.token;
  }
  return {};
}

std::string check_echo(const options& o) {
  if (o.count == 0) return {};
  const std::size_t max = o.to.kind == transport::udp ? max_udp_payload : max_tcp_probe;
  if (o.size < 1 || o.size > max)
    return "--size must be between 1 and " + std::to_string(max) + " bytes";
  return {};
}

// CLI11 reports a mistyped subcommand ("chta") as "A subcommand is
// required", which hides the typo: name it instead.
std::optional<int> check_subcommand(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const std::string first = argv[1];
  if (first.empty() || first.front() == '-' || first == "chat" || first == "echo") return std::nullopt;
  std::cerr << "chatgate-client: unknown command \"" << first << "\" (expected chat or echo; try --help)\n";
  return usage_status;
}

}  // namespace

std::optional<std::string> token_subject(const std::string& token) {
  const std::size_t dot = token.find('.');
  if (dot == std::string::npos || token.size() > protocol::max_token_bytes) return std::nullopt;
  const std::size_t second = token.find('.', dot + 1);
  if (second == std::string::npos) return std::nullopt;
  auto payload = protocol::base64url_decode(std::string_view(token).substr(dot + 1, second - dot - 1));
  if (!payload) return std::nullopt;
  const auto claims = nlohmann::json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return std::nullopt;
  auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || !protocol::is_valid_nick(sub->get<std::string>()))
    return std::nullopt;
  return sub->get<std::string>();
}

const char* to_string(transport t) {
  switch (t) {
    case transport::tcp: return "tcp";
    case transport::udp: return "udp";
    case transport::ws: return "ws";
  }
  return "?";
}

std::string target::describe() const {
  if (kind == transport::ws) return url;
  if (tls) return "tls " + bracketed(host) + ":" + port;
  return std::string(to_string(kind)) + " " + bracketed(host) + ":" + port;
}

std::optional<target> parse_host_port(const std::string& text, transport kind) {
  target t;
  t.kind = kind;
  if (is_port(text)) {
    t.port = text;
    return t;
  }
  std::string host, port;
  if (!split_host_port(text, host, port) || !is_port(port)) return std::nullopt;
  t.host = host;
  t.port = port;
  return t;
}

std::optional<target> parse_ws_url(const std::string& text, std::string& error) {
  const std::size_t scheme_end = text.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : lower(text.substr(0, scheme_end));
  if (scheme != "ws" && scheme != "wss") {
    error = "not a WebSocket URL: \"" + text + "\" (expected ws://HOST:PORT/ws or wss://HOST:PORT/ws)";
    return std::nullopt;
  }
  const std::string rest = text.substr(scheme_end + 3);
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  target t;
  t.kind = transport::ws;
  t.tls = scheme == "wss";
  t.path = slash == std::string::npos ? "/ws" : rest.substr(slash);
  std::string port;
  if (!split_host_port(authority, t.host, port)) {
    error = "no host in \"" + text + "\" (expected ws://HOST:PORT/ws)";
    return std::nullopt;
  }
  if (port.empty()) port = t.tls ? "443" : "80";
  if (!is_port(port)) {
    error = "bad port in \"" + text + "\"";
    return std::nullopt;
  }
  t.port = port;
  t.url = scheme + "://" + bracketed(t.host) + ":" + t.port + t.path;
  return t;
}

std::optional<int> parse_options(int argc, char** argv, options& out) {
  if (auto status = check_subcommand(argc, argv)) return status;
  CLI::App app{"chatgate-client: chat with a chatgate server from a terminal, or probe its echo port"};
  app.set_version_flag("--version", std::string("chatgate-client ") + CHATGATE_VERSION);
  app.require_subcommand(1);
  app.get_formatter()->column_width(36);
  app.footer(
      "examples:\n"
      "  chatgate-client chat\n"
      "  chatgate-client chat --udp 127.0.0.1:7000 --nick bob\n"
      "  echo hi | chatgate-client chat --ws ws://127.0.0.1:8080/ws --nick bot --room ops\n"
      "  chatgate-client chat --ws wss://chat.example.org/ws --token \"$JWT\"\n"
      "  chatgate-client chat --tcp chat.example.org:7443 --tls --ca ca.pem\n"
      "  chatgate-client echo --udp 127.0.0.1:7007 --count 1000 --size 512\n"
      "exit status: 0 done, 1 the connection failed or the server refused something, 2 bad usage");

  raw_options chat_raw, echo_raw;
  CLI::App* chat = app.add_subcommand("chat", "chat in a room (default: --tcp 127.0.0.1:7000)");
  add_target_options(*chat, chat_raw, /*with_ws=*/true, "127.0.0.1:7000");
  chat->add_option("--nick", out.nick, "take this nick on start")->type_name("NICK");
  chat->add_option("--room", out.room, "go to this room on start (instead of lobby)")->type_name("ROOM");
  chat->add_option("--token", out.token, "prove who you are with this JSON Web Token: its sub becomes your nick "
                                         "(also from $CHATGATE_TOKEN, which ps does not show)")
      ->type_name("JWT")->envname("CHATGATE_TOKEN");
  chat->add_flag("--json", out.json, "print the server's JSON events as they are (TCP: NDJSON)");
  chat->add_option("--rate", out.rate, "send at most N lines a second, bursts of 2N (0: no pacing)")
      ->type_name("N")->capture_default_str();
  bool reconnect = false, no_reconnect = false;
  auto* reconnect_flag = chat->add_flag(
      "--reconnect", reconnect, "reconnect when the server goes away, also with piped input (a terminal always does)");
  chat->add_flag("--no-reconnect", no_reconnect, "end when the server goes away, also in a terminal")
      ->excludes(reconnect_flag);
  chat->add_option("--timeout", out.timeout_s, "seconds to wait for the server to answer")
      ->type_name("SECONDS")->capture_default_str()->check(CLI::PositiveNumber);

  CLI::App* echo = app.add_subcommand("echo", "send lines to an RFC 862 echo server, print what comes back "
                                              "(default: --tcp 127.0.0.1:7007)");
  add_target_options(*echo, echo_raw, /*with_ws=*/false, "127.0.0.1:7007");
  echo->add_option("--count", out.count, "probe: this many round trips, then print min/median/p99")
      ->type_name("N")->check(CLI::Range(1, 1000000));
  echo->add_option("--size", out.size, "probe: bytes per round trip")->type_name("BYTES")->capture_default_str();
  echo->add_option("--timeout", out.timeout_s, "seconds to wait for the server to answer")
      ->type_name("SECONDS")->capture_default_str()->check(CLI::PositiveNumber);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : usage_status;
  }

  const bool is_chat = chat->parsed();
  if (reconnect) out.reconnect = reconnect_policy::always;
  if (no_reconnect) out.reconnect = reconnect_policy::never;
  out.what = is_chat ? mode::chat : mode::echo;
  std::string error = is_chat ? resolve_target(chat_raw, "127.0.0.1:7000", out.to)
                              : resolve_target(echo_raw, "127.0.0.1:7007", out.to);
  if (error.empty()) error = is_chat ? check_chat(out) : check_echo(out);
  if (!error.empty()) {
    std::cerr << "chatgate-client: " << error << "\n";
    return usage_status;
  }
  return std::nullopt;
}

}  // namespace chatgate::client

// What the command line asks for: chat or echo, over which transport, to where.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace chatgate::client {

enum class transport { tcp, udp, ws };
const char* to_string(transport t);

// Where to connect: HOST:PORT for TCP and UDP, a ws:// or wss:// URL for
// WebSocket.
struct target {
  transport kind = transport::tcp;
  std::string host = "127.0.0.1";
  std::string port;
  std::string path;  // WebSocket only: the resource, "/ws" when the URL has none
  std::string url;   // WebSocket only: the URL as connected to, without the token
  // TLS: wss:// or --tls (TCP); --ca FILE instead of the system's CAs, or
  // --insecure to check nothing.
  bool tls = false;
  std::string ca_file;
  bool insecure = false;
  // WebSocket only: --token, sent as ?token= (kept out of describe()).
  std::string token;

  // "tcp 127.0.0.1:7000", "tls 127.0.0.1:7443" or "ws://127.0.0.1:8080/ws",
  // for messages.
  std::string describe() const;
};

enum class mode { chat, echo };

// When the server goes away: reconnect in a terminal, end a script
// (automatic), or always, or never.
enum class reconnect_policy { automatic, always, never };

struct options {
  mode what = mode::chat;
  target to;
  std::string nick;  // chat: rename to this on start
  std::string room;  // chat: join this room on start (leaving the default room)
  bool json = false;  // chat: print raw JSON events (TCP switches to NDJSON)
  double timeout_s = 10;  // how long to wait for the server at start and at the end
  double rate = 15;       // chat: lines sent per second at most, bursts of twice that
  reconnect_policy reconnect = reconnect_policy::automatic;  // chat
  std::size_t count = 0;  // echo: round trips of the probe (0: read lines instead)
  std::size_t size = 64;  // echo: bytes per probe
  // chat: --token (SPEC 13), sent first on every connection; token_nick is
  // its `sub`, the nick the server gives for it.
  std::string token;
  std::string token_nick;
};

// Parses argv; returns an exit status when the program should stop now
// (--help, --version, or a usage error, which is printed).
std::optional<int> parse_options(int argc, char** argv, options& out);

// "HOST:PORT", "[V6]:PORT" or "PORT" (host 127.0.0.1); nullopt when malformed.
std::optional<target> parse_host_port(const std::string& text, transport kind);
// "ws[s]://HOST[:PORT][/PATH]"; sets `error` to why not when malformed.
std::optional<target> parse_ws_url(const std::string& text, std::string& error);

}  // namespace chatgate::client

namespace chatgate::client {
// The `sub` of a JSON Web Token, read without checking it (the server
// does); nullopt when the token is not HEADER.PAYLOAD.SIGNATURE with a sub.
std::optional<std::string> token_subject(const std::string& token);
}  // namespace chatgate::client

#include "gateway/config.hpp"

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "protocol/event.hpp"
#include "protocol/names.hpp"

namespace chatgate {
namespace {

// "--http-port" -> "CHATGATE_HTTP_PORT"
std::string env_name(const std::string& flag) {
  std::string name = "CHATGATE_";
  for (char c : flag.substr(2)) name.push_back(c == '-' ? '_' : char(std::toupper(c)));
  return name;
}

template <class T>
CLI::Option* option(CLI::App& app, const std::string& flag, T& value, const std::string& help) {
  return app.add_option(flag, value, help)->envname(env_name(flag))->capture_default_str();
}

CLI::Option* flag(CLI::App& app, const std::string& name, bool& value, const std::string& help) {
  return app.add_flag(name, value, help)->envname(env_name(name));
}

std::string check_rooms(config& c) {
  auto room = protocol::normalize_room(c.default_room);
  if (!room) return "--default-room: not a valid room name: " + c.default_room;
  c.default_room = *room;
  if (!c.echo_room.empty()) {
    auto echo = protocol::normalize_room(c.echo_room);
    if (!echo) return "--echo-room: not a valid room name: " + c.echo_room;
    c.echo_room = *echo;
  }
  return {};
}

}  // namespace

std::optional<int> parse_config(int argc, char** argv, config& c) {
  CLI::App app{"chatgate: one chat, whatever you connect with (WebSocket, TCP, UDP, echo)"};
  app.set_version_flag("--version", std::string(protocol::server_name));
  app.get_formatter()->column_width(34);

  option(app, "--bind", c.bind, "address to listen on (0.0.0.0, ::, 127.0.0.1)");
  option(app, "--http-port", c.http_port, "HTTP and WebSocket port (0: pick a free one)");
  option(app, "--tcp-port", c.tcp_port, "TCP chat port");
  option(app, "--udp-port", c.udp_port, "UDP chat port");
  option(app, "--echo-port", c.echo_port, "RFC 862 echo port, TCP and UDP");
  flag(app, "--no-tcp", c.no_tcp, "switch the TCP chat listener off");
  flag(app, "--no-udp", c.no_udp, "switch the UDP chat listener off");
  flag(app, "--no-echo", c.no_echo, "switch the echo listeners off");
  option(app, "--irc-port", c.irc_port, "IRC port (SPEC 14)");
  flag(app, "--no-irc", c.no_irc, "switch the IRC listener off");
  option(app, "--ports-file", c.ports_file, "write the bound ports there as JSON once listening");
  option(app, "--log-level", c.log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  option(app, "--web-root", c.web_root, "serve the page from this folder instead of the binary");
  flag(app, "--trust-proxy", c.trust_proxy,
       "take client addresses from X-Forwarded-For and PROXY protocol v1");
  option(app, "--default-room", c.default_room, "the room every client starts in");
  option(app, "--echo-room", c.echo_room, "room that echo traffic is posted to (empty: none)");
  option(app, "--history", c.history, "messages each room keeps and replays on join");
  option(app, "--max-message-bytes", c.max_message_bytes, "longest message text")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  option(app, "--max-frame-bytes", c.max_frame_bytes, "longest WebSocket frame or NDJSON line")
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 26));
  option(app, "--rate", c.rate, "messages per second a client may send")
      ->check(CLI::PositiveNumber);
  option(app, "--burst", c.burst, "messages a client may send at once")
      ->check(CLI::Range(1.0, 1e12));
  option(app, "--max-queue-bytes", c.max_queue_bytes,
         "bytes queued to a client that does not read before it is dropped")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 34));
  option(app, "--max-clients", c.max_clients, "clients at once, all transports");
  option(app, "--max-rooms-per-client", c.max_rooms_per_client,
         "rooms one WebSocket or NDJSON client may be in at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
  option(app, "--line-idle-ms", c.line_idle_ms,
         "a partial TCP line idle this long counts as complete")
      ->check(CLI::Range(1u, 3600000u));
  option(app, "--udp-idle-s", c.udp_idle_s, "a silent UDP peer is forgotten after this")
      ->check(CLI::Range(1u, 86400u));
  option(app, "--irc-ping-s", c.irc_ping_s, "a silent IRC client is pinged after this, dropped after twice")
      ->check(CLI::Range(1u, 86400u));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // CLI11 treats an empty variable as unset, but CHATGATE_ECHO_ROOM= is how
  // a container switches echo posting off.
  const char* echo_env = std::getenv("CHATGATE_ECHO_ROOM");
  if (echo_env && !*echo_env && app.get_option("--echo-room")->count() == 0) c.echo_room.clear();
  if (auto problem = check_rooms(c); !problem.empty()) {
    std::fprintf(stderr, "%s\n", problem.c_str());
    return 2;
  }
  return std::nullopt;
}

}  // namespace chatgate

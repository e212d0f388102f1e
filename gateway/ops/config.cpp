#include "gateway/ops/config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <limits>
#include <sstream>

#include <unistd.h>

#include <cstdio>

#include <CLI/CLI.hpp>
#include <asio/ip/address.hpp>

#include "gateway/ops/startup_error.hpp"
#include "gateway/redis/redis_url.hpp"
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

std::string number_text(double v) {
  std::ostringstream out;
  out.precision(15);
  out << v;
  return out.str();
}

// A number from `lo` to `hi`, checked before CLI11 converts it: CLI11 turns
// "-5" into a huge unsigned value and reports ranges with 300-digit limits.
template <class T>
CLI::Validator within(T lo, T hi) {
  const std::string range = "from " + number_text(double(lo)) + " to " + number_text(double(hi));
  auto check = [lo, hi, range](std::string& text) -> std::string {
    const char* begin = text.c_str();
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(begin, &end);
    bool ok = !text.empty() && end == begin + text.size() && errno == 0 && std::isfinite(value) &&
              value >= double(lo) && value <= double(hi);
    if (std::numeric_limits<T>::is_integer)
      ok = ok && text.find_first_not_of("0123456789") == std::string::npos;
    if (ok) return {};
    return "'" + text + "' is not " + (std::numeric_limits<T>::is_integer ? "a whole number " : "a number ") +
           range;
  };
  return CLI::Validator(check, "in [" + number_text(double(lo)) + " - " + number_text(double(hi)) + "]",
                        "within");
}

const auto port_number = within<unsigned>(0, 65535);

// Flags CLI11 cannot check on its own; what a user would get wrong.
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

std::string check_tls_and_auth(config& c) {
  if (c.tls_cert.empty() != c.tls_key.empty()) return "--tls-cert and --tls-key go together";
  if (!c.auth_secret_file.empty()) {
    if (!c.auth_secret.empty()) return "--auth-secret and --auth-secret-file: give one";
    std::ifstream in(c.auth_secret_file, std::ios::binary);
    if (!in) return "--auth-secret-file: cannot read " + c.auth_secret_file;
    std::ostringstream text;
    text << in.rdbuf();
    c.auth_secret = text.str();
    // A file written by `echo` ends with a newline that is not part of the secret.
    while (!c.auth_secret.empty() && (c.auth_secret.back() == '\n' || c.auth_secret.back() == '\r'))
      c.auth_secret.pop_back();
    if (c.auth_secret.empty()) return "--auth-secret-file: " + c.auth_secret_file + " is empty";
  }
  if (c.require_auth && c.auth_secret.empty())
    return "--require-auth needs --auth-secret, --auth-secret-file or CHATGATE_AUTH_SECRET";
  return {};
}

std::string check_paths(const config& c) {
  std::error_code ec;
  if (asio::ip::make_address(c.bind, ec), ec) return "--bind: not an IP address: '" + c.bind + "'";
  if (!c.web_root.empty() && !std::filesystem::is_directory(c.web_root, ec))
    return "--web-root: not a directory: " + c.web_root;
  return {};
}

// SPEC 11: Redis keeps the history in cluster mode, so --db has no role.
std::string check_cluster(config& c) {
  if (c.redis.empty()) return {};
  if (!c.db.empty()) return "--db and --redis: give one (a cluster keeps its history in Redis)";
  std::string error;
  if (!redis::parse_url(c.redis, error)) return "--redis: " + error;
  if (c.node_id.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "node");
    c.node_id = std::string(host) + "-" + std::to_string(getpid());
  }
  if (c.node_id.size() > 64 || c.node_id.find_first_of("\t\r\n {}\"\\") != std::string::npos)
    return "--node-id: at most 64 characters, no spaces, braces, quotes or backslashes: " + c.node_id;
  return {};
}

// CLI11's messages, on one line, naming the flag first.
std::string one_line(std::string text) {
  for (std::string_view extras : {"The following argument was not expected: ",
                                  "The following arguments were not expected: "})
    if (text.rfind(extras, 0) == 0) text = "unknown flag or argument: " + text.substr(extras.size());
  for (char& ch : text)
    if (ch == '\n' || ch == '\r') ch = ' ';
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

std::optional<int> parse_config(int argc, char** argv, config& c) {
  CLI::App app{"chatgate: one chat, whatever you connect with (WebSocket, TCP, UDP, echo)"};
  app.set_version_flag("--version", std::string(protocol::server_name));
  app.get_formatter()->column_width(34);

  option(app, "--bind", c.bind, "address to listen on (0.0.0.0, ::, 127.0.0.1)");
  option(app, "--http-port", c.http_port, "HTTP and WebSocket port (0: pick a free one)")->check(port_number);
  option(app, "--tcp-port", c.tcp_port, "TCP chat port")->check(port_number);
  option(app, "--udp-port", c.udp_port, "UDP chat port")->check(port_number);
  option(app, "--echo-port", c.echo_port, "RFC 862 echo port, TCP and UDP")->check(port_number);
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
  option(app, "--history", c.history, "messages each room keeps and replays on join")
      ->check(within<std::size_t>(0, 1000000));
  option(app, "--history-bytes", c.history_bytes,
         "bytes all rooms' history may hold in memory; the rooms idle longest lose theirs first")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 40));
  option(app, "--db", c.db, "keep history, ids and topics in this SQLite file (empty: memory only)");
  option(app, "--db-retain", c.db_retain, "messages kept per room in the database")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 32));
  option(app, "--redis", c.redis, "join a cluster through this Redis: redis://[:PASSWORD@]HOST:PORT[/DB]");
  option(app, "--node-id", c.node_id, "this node's name in the cluster (default: host name and pid)");
  option(app, "--redis-timeout-ms", c.redis_timeout_ms,
         "with --redis: a Redis command not answered within this fails as unavailable")
      ->check(within<unsigned>(500, 60000));
  option(app, "--redis-ttl-ms", c.redis_ttl_ms,
         "with --redis: a dead node's nicks and presence expire after this (refreshed every third)")
      ->check(within<unsigned>(1500, 600000));
  option(app, "--max-message-bytes", c.max_message_bytes, "longest message text")
      ->check(within<std::size_t>(1, std::size_t{1} << 24));
  option(app, "--max-frame-bytes", c.max_frame_bytes, "longest WebSocket frame or NDJSON line")
      ->check(within<std::size_t>(64, std::size_t{1} << 26));
  option(app, "--rate", c.rate, "messages per second a client may send")
      ->check(within<double>(0.001, 1e12));
  option(app, "--burst", c.burst, "messages a client may send at once")
      ->check(within<double>(1, 1e12));
  option(app, "--max-queue-bytes", c.max_queue_bytes,
         "bytes queued to a client that does not read before it is dropped")
      ->check(within<std::size_t>(1024, std::size_t{1} << 34));
  option(app, "--max-clients", c.max_clients, "clients at once, all transports")
      ->check(within<std::size_t>(1, 10000000));
  option(app, "--max-rooms-per-client", c.max_rooms_per_client,
         "rooms one WebSocket or NDJSON client may be in at once")
      ->check(within<std::size_t>(1, std::size_t{1} << 20));
  option(app, "--presence-limit", c.presence_limit,
         "rooms above this many members announce joins and leaves as counts (0: always one by one)")
      ->check(within<std::size_t>(0, 10000000));
  option(app, "--line-idle-ms", c.line_idle_ms,
         "a partial TCP line idle this long counts as complete")
      ->check(within<unsigned>(1, 3600000));
  option(app, "--udp-idle-s", c.udp_idle_s, "a silent UDP peer is forgotten after this")
      ->check(within<unsigned>(1, 86400));
  option(app, "--max-udp-peers", c.max_udp_peers,
         "UDP peers that have not sent /ok yet, at once; the oldest is forgotten first")
      ->check(within<std::size_t>(1, std::size_t{1} << 24));
  option(app, "--shutdown-delay-s", c.shutdown_delay_s,
         "on SIGTERM, /readyz answers 503 this long before the shutdown starts")
      ->check(within<unsigned>(0, 3600));
  option(app, "--irc-ping-s", c.irc_ping_s, "a silent IRC client is pinged after this, dropped after twice")
      ->check(within<unsigned>(1, 86400));

  option(app, "--tls-cert", c.tls_cert,
         "PEM certificate chain (fullchain.pem): the HTTP port serves HTTPS and WSS only");
  option(app, "--tls-key", c.tls_key, "PEM private key of --tls-cert (privkey.pem)");
  option(app, "--tls-tcp-port", c.tls_tcp_port, "TCP chat over TLS, with --tls-cert")->check(port_number);
  flag(app, "--no-tls-tcp", c.no_tls_tcp, "no TLS TCP chat listener even with --tls-cert");
  option(app, "--irc-tls-port", c.irc_tls_port, "IRC over TLS, with --tls-cert")->check(port_number);
  flag(app, "--no-irc-tls", c.no_irc_tls, "no IRC over TLS listener even with --tls-cert");
  // No capture_default_str: the secret must not show in --help.
  app.add_option("--auth-secret", c.auth_secret, "HS256 secret for tokens (prefer the variable or a file)")
      ->envname("CHATGATE_AUTH_SECRET");
  option(app, "--auth-secret-file", c.auth_secret_file, "read the HS256 secret from this file");
  flag(app, "--require-auth", c.require_auth, "refuse clients without a valid token");
  option(app, "--auth-timeout-s", c.auth_timeout_s,
         "with --require-auth: TCP and UDP clients must authenticate within this")
      ->check(within<unsigned>(1, 3600));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version are "errors" with status 0 in CLI11.
    if (e.get_exit_code() == 0) return app.exit(e);
    throw startup_error(one_line(e.what()) + " (--help lists the flags)");
  }
  // CLI11 treats an empty variable as unset, but CHATGATE_ECHO_ROOM= is how
  // a container switches echo posting off.
  const char* echo_env = std::getenv("CHATGATE_ECHO_ROOM");
  if (echo_env && !*echo_env && app.get_option("--echo-room")->count() == 0) c.echo_room.clear();
  if (auto problem = check_rooms(c); !problem.empty()) throw startup_error(problem);
  if (auto problem = check_paths(c); !problem.empty()) throw startup_error(problem);
  if (auto problem = check_tls_and_auth(c); !problem.empty()) throw startup_error(problem);
  if (auto problem = check_cluster(c); !problem.empty()) throw startup_error(problem);
  return std::nullopt;
}

}  // namespace chatgate

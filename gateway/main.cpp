// chatgate: one chat, whatever you connect with.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>

#include <asio.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/hub.hpp"
#include "gateway/message_store.hpp"
#include "gateway/metrics.hpp"
#include "gateway/sqlite_store.hpp"
#include "gateway/startup_error.hpp"
#include "protocol/event.hpp"

namespace {

// Every client is a file descriptor: take all the kernel allows us, and say
// when --max-clients cannot be reached.
void raise_descriptor_limit(std::size_t max_clients) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  constexpr std::size_t reserve = 32;  // listeners, logs, the ports file
  if (limit.rlim_cur != RLIM_INFINITY && max_clients + reserve > limit.rlim_cur)
    spdlog::warn("--max-clients {} but only {} file descriptors are allowed (ulimit -n): "
                 "expect refused connections sooner",
                 max_clients, limit.rlim_cur);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace chatgate;
  config cfg;
  if (auto status = parse_config(argc, argv, cfg)) return *status;

  spdlog::set_default_logger(spdlog::stderr_color_st("chatgate"));
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit(cfg.max_clients);

  // The hub and the metrics outlive the loop: handlers still pending when
  // the loop is destroyed may touch them, never a listener.
  metrics stats;
  std::unique_ptr<hub> h;
  asio::io_context io(1);

  std::unique_ptr<gateway> gw;
  message_store* store = nullptr;
  try {
    auto s = cfg.db.empty() ? make_memory_store(cfg.history, cfg.history_bytes)
                            : make_sqlite_store(io, cfg, stats);
    store = s.get();
    h = std::make_unique<hub>(cfg, stats, std::move(s));
    gw = std::make_unique<gateway>(io, cfg, *h, stats);
  } catch (const startup_error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::system_error& e) {
    spdlog::error("cannot listen on {}: {}", cfg.bind, e.what());
    return 1;
  }
  gw->start();
  gw->log_listeners();
  if (!cfg.ports_file.empty() && !write_file_atomically(cfg.ports_file, gw->ports_json())) {
    spdlog::error("cannot write the ports file {}", cfg.ports_file);
    return 1;
  }
  spdlog::info("{} ready", protocol::server_name);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](std::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", signo);
    gw->shutdown(std::chrono::milliseconds(1500));
  });

  io.run();
  gw.reset();
  store->close();  // commits what the loop did not get to
  spdlog::info("stopped");
  return 0;
}

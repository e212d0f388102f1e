// chatgate: one chat, whatever you connect with.
#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <functional>
#include <cstring>

#include <asio.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "gateway/ops/config.hpp"
#include "gateway/gateway.hpp"
#include "gateway/hub/hub.hpp"
#include "gateway/store/message_store.hpp"
#include "gateway/ops/metrics.hpp"
#include "gateway/store/sqlite_store.hpp"
#include "gateway/redis/redis_directory.hpp"
#include "gateway/redis/redis_store.hpp"
#include "gateway/ops/startup_error.hpp"
#include "protocol/event.hpp"

namespace {

constexpr std::chrono::milliseconds shutdown_grace(1500);  // SPEC 1: exit within 2 s
bool loop_running = false;  // past start-up: an exception now is a bug, not a start-up error

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

// Start-up errors (SPEC 9): one line on stderr, status 2, never an abort.
int fail_to_start(const char* what) {
  std::string line = what;
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "chatgate: %s\n", line.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace chatgate;
  config cfg;
  if (auto status = parse_config(argc, argv, cfg)) return *status;

  spdlog::set_default_logger(spdlog::stderr_color_st("chatgate"));
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  // A cluster's logs are read side by side: each line names its node.
  if (!cfg.redis.empty()) spdlog::set_pattern("[%Y-%m-%d %H:%M:%S.%e] [" + cfg.node_id + "] [%^%l%$] %v");
  std::signal(SIGPIPE, SIG_IGN);
  // A file size limit (ulimit -f) reached by --db must fail the write
  // (EFBIG: `unavailable` to the sender), not kill the server.
  std::signal(SIGXFSZ, SIG_IGN);
  raise_descriptor_limit(cfg.max_clients);

  // The hub and the metrics outlive the loop: handlers still pending when
  // the loop is destroyed may touch them, never a listener.
  metrics stats;
  std::unique_ptr<hub> h;
  asio::io_context io(1);

  std::unique_ptr<gateway> gw;
  message_store* store = nullptr;
  // Signals are ours before anyone can learn the ports: a supervisor's
  // SIGTERM right after start-up still gets the clean shutdown.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  // SIGHUP: reload the TLS certificate and key, for new connections (and
  // never the default action, exit, once the ports file exists).
  asio::signal_set hangups(io, SIGHUP);
  std::unique_ptr<message_store> s;
  redis::redis_store* cluster = nullptr;
  if (!cfg.redis.empty()) {
    auto r = redis::make_cluster_store(io, cfg, stats);
    cluster = r.get();
    s = std::move(r);
  } else {
    s = cfg.db.empty() ? make_memory_store(cfg.history, cfg.history_bytes) : make_sqlite_store(io, cfg, stats);
  }
  store = s.get();
  h = std::make_unique<hub>(cfg, stats, std::move(s));
  std::unique_ptr<redis::redis_directory> directory;
  if (cluster) {
    directory = std::make_unique<redis::redis_directory>(io, *cluster);
    h->join_cluster(*directory);
  }
  gw = std::make_unique<gateway>(io, cfg, *h, stats);
  std::function<void(std::error_code, int)> on_hangup = [&](std::error_code ec, int) {
    if (ec) return;
    gw->reload_tls();
    hangups.async_wait(on_hangup);
  };
  hangups.async_wait(on_hangup);
  // The ports file appears after the listening lines (tests read them
  // then), but a ports file that cannot be written is found before them.
  auto ports_file_error = [&] {
    return startup_error("--ports-file: cannot write " + cfg.ports_file + ": " + std::strerror(errno));
  };
  if (!cfg.ports_file.empty() && !stage_file(cfg.ports_file, gw->ports_json())) throw ports_file_error();
  gw->log_listeners();
  if (!cfg.ports_file.empty() && !commit_file(cfg.ports_file)) throw ports_file_error();
  gw->start();
  if (cluster) cluster->start();
  spdlog::info("{} ready", protocol::server_name);

  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](std::error_code ec, int signo) {
      if (ec) return;
      gw->on_signal(signo, shutdown_grace);
      wait_for_signal();
    });
  };
  wait_for_signal();

  loop_running = true;
  io.run();
  gw.reset();
  if (directory) h->leave_cluster();  // clients still closing must not reach it
  directory.reset();
  store->close();  // commits what the loop did not get to
  // The Redis links and timers go while the loop they belong to still exists.
  if (cluster) cluster->shutdown();
  spdlog::info("stopped");
  return 0;
} catch (const chatgate::startup_error& e) {
  return fail_to_start(e.what());
} catch (const std::exception& e) {
  // Anything else thrown before the loop runs: still one line, not an abort.
  if (loop_running) throw;
  return fail_to_start(e.what());
}

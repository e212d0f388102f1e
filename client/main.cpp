// chatgate-client: chat with a chatgate server from a terminal (TCP, UDP or
// WebSocket), or send lines to its echo port.
#include <csignal>
#include <iostream>

#include <asio.hpp>

#include "client/console.hpp"
#include "client/echo_probe.hpp"
#include "client/echo_session.hpp"
#include "client/json_session.hpp"
#include "client/link.hpp"
#include "client/options.hpp"
#include "client/terminal.hpp"
#include "client/text_session.hpp"

namespace {

using namespace chatgate::client;

std::unique_ptr<session> make_session(asio::io_context& io, console& con, const options& opt) {
  auto l = make_link(io, opt.to);
  if (opt.what == mode::echo) {
    if (opt.count > 0) return std::make_unique<echo_probe>(io, con, l, opt);
    return std::make_unique<echo_session>(io, con, l, opt);
  }
  if (opt.to.kind == transport::ws || opt.json) return std::make_unique<json_session>(io, con, l, opt);
  return std::make_unique<text_session>(io, con, l, opt);
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  if (auto status = parse_options(argc, argv, opt)) return *status;
  ensure_standard_fds();
  std::signal(SIGPIPE, SIG_IGN);

  asio::io_context io(1);
  console con(io);
  std::unique_ptr<session> s = make_session(io, con, opt);

  // The first signal ends the session cleanly (as end of input does); a
  // second one does not wait.
  bool interrupted = false;
  bool forced = false;
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  std::function<void(std::error_code, int)> on_signal = [&](std::error_code ec, int) {
    if (ec) return;
    if (interrupted) {
      forced = true;
      return io.stop();
    }
    interrupted = true;
    s->interrupt();
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);

  s->start();
  io.run();
  con.stop();
  if (forced) {
    std::cerr << "chatgate-client: interrupted\n";
    return 130;
  }
  if (!s->error().empty()) std::cerr << "chatgate-client: " << s->error() << "\n";
  return s->status();
}

#include "client/session.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>

namespace chatgate::client {
namespace {

// How long a WebSocket close handshake may take before we just go.
constexpr auto close_grace = std::chrono::milliseconds(1500);
// The page's backoff: 0.5 s doubling, at most 6 s.
constexpr double backoff_base_ms = 500;
constexpr double backoff_cap_ms = 6000;
// Links dropped for new ones, kept until their last handlers have run.
constexpr std::size_t max_retired = 8;

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<long long>(s * 1000));
}

}  // namespace

std::string describe_seconds(double s) {
  std::string text = std::to_string(s);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text + " s";
}

std::chrono::milliseconds reconnect_delay(unsigned attempt, double random01) {
  const double ceiling = std::min(backoff_cap_ms, backoff_base_ms * std::pow(2.0, std::min(attempt, 16u)));
  return std::chrono::milliseconds(static_cast<long long>(ceiling / 2 + random01 * ceiling / 2));
}

session::session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : io_(io),
      console_(con),
      link_(std::move(l)),
      opt_(opt),
      deadline_(io),
      grace_(io),
      retry_(io),
      random_(static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count())) {}

void session::start() {
  arm_deadline("no answer from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s));
  start_link();
}

void session::start_link() {
  const unsigned generation = ++generation_;
  link_gone_ = false;
  link::callbacks cb;
  cb.on_open = [this, generation] {
    if (generation == generation_ && !finished_) on_open();
  };
  cb.on_data = [this, generation](std::string_view chunk) {
    if (generation == generation_ && !finished_) on_data(chunk);
  };
  cb.on_close = [this, generation](const std::string& why) { on_close(generation, why); };
  link_->start(std::move(cb));
}

void session::on_close(unsigned generation, const std::string& why) {
  if (generation != generation_) return;  // a link we dropped for a new one
  link_gone_ = true;
  if (finished_) {
    io_.stop();
    return;
  }
  on_link_closed(why);
}

void session::finish(int status, std::string error) {
  if (finished_) return;
  finished_ = true;
  status_ = status;
  error_ = std::move(error);
  console_.stop();
  deadline_.cancel();
  retry_.cancel();
  if (link_gone_) {
    io_.stop();
    return;
  }
  link_->close();
  grace_.expires_after(close_grace);
  grace_.async_wait([this](std::error_code ec) {
    if (!ec) io_.stop();
  });
}

void session::arm_deadline(std::string why) {
  deadline_.expires_after(seconds(opt_.timeout_s));
  deadline_.async_wait([this, why = std::move(why)](std::error_code ec) {
    if (ec) return;
    if (reconnecting_) return connection_lost(why);
    finish(1, why);
  });
}

void session::disarm_deadline() { deadline_.cancel(); }

bool session::may_reconnect() const {
  switch (opt_.reconnect) {
    case reconnect_policy::always: return true;
    case reconnect_policy::never: return false;
    case reconnect_policy::automatic: break;
  }
  return console_.interactive();
}

void session::notice(const std::string& text) {
  if (console_.interactive())
    console_.print("* " + text);
  else
    std::cerr << "chatgate-client: " << text << std::endl;
}

void session::connected(const std::string& who) {
  ever_connected_ = true;
  attempt_ = 0;
  if (!reconnecting_) return;
  reconnecting_ = false;
  notice("reconnected to " + opt_.to.describe() + " as " + who);
}

void session::input_finished() {
  input_finished_ = true;
  if (reconnecting_) give_up_at_ = std::chrono::steady_clock::now() + seconds(opt_.timeout_s);
}

void session::connection_lost(const std::string& why) {
  if (finished_) return;
  if (!ever_connected_ || !may_reconnect()) return finish(1, why);
  const auto now = std::chrono::steady_clock::now();
  if (!reconnecting_) {
    reconnecting_ = true;
    if (input_finished_) give_up_at_ = now + seconds(opt_.timeout_s);
  }
  if (input_finished_ && now >= give_up_at_)
    return finish(1, "no connection to " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s) +
                         " after the input ended (" + why + ")");
  // Forget this link: whatever it still reports is ignored.
  deadline_.cancel();
  ++generation_;
  if (!link_gone_) link_->close();
  link_gone_ = true;
  on_offline();

  std::uniform_real_distribution<double> draw(0.0, 1.0);
  const auto delay = reconnect_delay(attempt_, draw(random_));
  notice((attempt_ == 0 ? "connection lost (" : "still no connection (") + why + "); reconnecting in " +
         describe_seconds(std::round(static_cast<double>(delay.count()) / 100) / 10));
  ++attempt_;
  retry_.expires_after(delay);
  retry_.async_wait([this](std::error_code ec) {
    if (!ec && !finished_) do_reconnect();
  });
}

void session::do_reconnect() {
  // The old link may still have handlers in flight that point at it.
  retired_.push_back(std::move(link_));
  if (retired_.size() > max_retired) retired_.pop_front();
  link_ = make_link(io_, opt_.to);
  arm_deadline("no welcome from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s));
  start_link();
}

}  // namespace chatgate::client

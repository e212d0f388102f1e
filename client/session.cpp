#include "client/session.hpp"

#include <chrono>

namespace chatgate::client {
namespace {

// How long a WebSocket close handshake may take before we just go.
constexpr auto close_grace = std::chrono::milliseconds(1500);

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

session::session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt)
    : io_(io), console_(con), link_(std::move(l)), opt_(opt), deadline_(io), grace_(io) {}

void session::start() {
  arm_deadline("no answer from " + opt_.to.describe() + " within " + describe_seconds(opt_.timeout_s));
  link::callbacks cb;
  cb.on_open = [this] { on_open(); };
  cb.on_data = [this](std::string_view chunk) {
    if (!finished_) on_data(chunk);
  };
  cb.on_close = [this](const std::string& why) { on_close(why); };
  link_->start(std::move(cb));
}

void session::on_close(const std::string& why) {
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
    if (!ec) finish(1, why);
  });
}

void session::disarm_deadline() { deadline_.cancel(); }

}  // namespace chatgate::client

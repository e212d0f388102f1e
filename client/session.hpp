// What every mode shares: a link, the console, a deadline, one way to end
// with an exit status and a reason, and reconnecting when the link is lost.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "client/console.hpp"
#include "client/link.hpp"
#include "client/options.hpp"

namespace chatgate::client {

// After a reconnect the old connection may still hold our nick for a
// moment (the server has not noticed it is gone): ask again this often.
constexpr int max_nick_retries = 3;
constexpr auto nick_retry_every = std::chrono::seconds(2);

// "10 s", "0.5 s"
std::string describe_seconds(double s);

// Before attempt n (0, 1, 2, ...): half of min(6 s, 0.5 s * 2^n) plus a
// random part of the other half, as the page does ("equal jitter").
std::chrono::milliseconds reconnect_delay(unsigned attempt, double random01);

class session {
 public:
  session(asio::io_context& io, console& con, std::shared_ptr<link> l, const options& opt);
  virtual ~session() = default;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start();
  // Ctrl-C from outside (a signal): end as if the input had ended.
  virtual void interrupt() = 0;

  int status() const { return status_; }
  const std::string& error() const { return error_; }

 protected:
  virtual void on_open() = 0;
  virtual void on_data(std::string_view chunk) = 0;
  // The link is gone and the session did not end it.
  virtual void on_link_closed(const std::string& why) = 0;
  // The link was dropped for a new one: forget what belonged to it.
  virtual void on_offline() {}

  // Ends the session once: input stops, the link closes, then the loop.
  void finish(int status, std::string error = {});
  bool finished() const { return finished_; }
  // finish(1, why) unless disarmed within --timeout; while reconnecting,
  // the attempt is given up and the next one scheduled instead.
  void arm_deadline(std::string why);
  void disarm_deadline();

  // The server has said welcome and the session is set up as the user
  // wants it: from now on a lost link is reconnected (if allowed). `who`
  // ("alice in #ops") completes the "reconnected" notice.
  void connected(const std::string& who);
  // The link is lost: reconnect when allowed, else finish(1, why).
  void connection_lost(const std::string& why);
  // Between losing a link and being set up again on a new one.
  bool reconnecting() const { return reconnecting_; }
  // This session reconnects at all (--reconnect, or a terminal).
  bool may_reconnect() const;
  // A line about the connection, in words: on the terminal, or on stderr
  // when stdout is a pipe (stdout is the conversation).
  void notice(const std::string& text);
  // Called when input ends: from now on reconnecting is given --timeout.
  void input_finished();

  asio::io_context& io_;
  console& console_;
  std::shared_ptr<link> link_;
  const options& opt_;

 private:
  void start_link();
  void on_close(unsigned generation, const std::string& why);
  void do_reconnect();

  std::deque<std::shared_ptr<link>> retired_;
  asio::steady_timer deadline_;
  asio::steady_timer grace_;
  asio::steady_timer retry_;
  std::minstd_rand random_;
  int status_ = 0;
  std::string error_;
  bool finished_ = false;
  bool link_gone_ = false;
  bool ever_connected_ = false;
  bool reconnecting_ = false;
  bool input_finished_ = false;
  unsigned generation_ = 0;  // callbacks of a link that was replaced are ignored
  unsigned attempt_ = 0;
  std::chrono::steady_clock::time_point give_up_at_{};
};

}  // namespace chatgate::client

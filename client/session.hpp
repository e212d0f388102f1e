// What every mode shares: a link, the console, a deadline, and one way to
// end with an exit status and a reason.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "client/console.hpp"
#include "client/link.hpp"
#include "client/options.hpp"

namespace chatgate::client {

// "10 s", "0.5 s"
std::string describe_seconds(double s);

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

  // Ends the session once: input stops, the link closes, then the loop.
  void finish(int status, std::string error = {});
  bool finished() const { return finished_; }
  // finish(1, why) unless disarmed within --timeout.
  void arm_deadline(std::string why);
  void disarm_deadline();

  asio::io_context& io_;
  console& console_;
  std::shared_ptr<link> link_;
  const options& opt_;

 private:
  void on_close(const std::string& why);

  asio::steady_timer deadline_;
  asio::steady_timer grace_;
  int status_ = 0;
  std::string error_;
  bool finished_ = false;
  bool link_gone_ = false;
};

}  // namespace chatgate::client

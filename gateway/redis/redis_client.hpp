// Redis connections on the event loop: hiredis 0.14's async API driven by
// Asio (hiredis ships adapters for libevent, libev and libuv, none for Asio).
//
// - `client` sends commands (pipelined) and gets one reply per command;
// - `subscriber` holds SUBSCRIBE/PSUBSCRIBE on a connection of its own, as
//   Redis requires, and restores them after every reconnect.
//
// Both connect with a deadline, put a deadline on every command (hiredis
// 0.14 has none), treat a missed deadline as a broken connection (torn down,
// every pending callback fails with `timeout`), and reconnect by themselves
// with backoff, doing AUTH and SELECT again. Failures reach callbacks as
// error codes; nothing throws across the loop. Everything runs on the one
// loop thread. Do not destroy a client from inside one of its callbacks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "gateway/redis/redis_url.hpp"

struct redisAsyncContext;  // hiredis

namespace chatgate::redis {

enum class errc {
  not_connected = 1,  // down or (re)connecting: nothing was sent
  timeout,            // no reply within the deadline; the connection was dropped
  connection_lost,    // the connection broke with the command pending
  stopped,            // stop() or destruction with the command pending
  too_many_pending,   // options::max_pending commands already wait for replies
};
const std::error_category& redis_category();
inline std::error_code make_error_code(errc e) { return {static_cast<int>(e), redis_category()}; }

// An owned copy of a hiredis reply.
struct reply {
  enum class type { nil, status, error, integer, string, array };
  type kind = type::nil;
  std::string str;  // status, error and string
  long long integer = 0;
  std::vector<reply> elements;

  bool is_error() const { return kind == type::error; }
  bool is_nil() const { return kind == type::nil; }
};

using reply_handler = std::function<void(std::error_code, reply)>;

// A command as Redis reads it (RESP: what hiredis would format), built one
// argument at a time: a hot path (a publish) needs no vector of strings and
// hiredis no formatting of its own.
class resp_command {
 public:
  explicit resp_command(std::size_t argc, std::size_t bytes_hint = 0);
  resp_command& arg(std::string_view a);
  // Arguments announced but not given yet (0 when complete).
  std::size_t missing() const { return left_; }
  const std::string& text() const { return buf_; }

 private:
  std::string buf_;
  std::size_t left_;
};
using state_handler = std::function<void(bool up)>;

struct options {
  url target;
  std::chrono::milliseconds connect_timeout{2000};  // connect, AUTH, SELECT (and resubscribe)
  std::chrono::milliseconds command_timeout{2000};  // every reply
  std::chrono::milliseconds backoff_min{100};       // first reconnect delay, doubled per failure
  std::chrono::milliseconds backoff_max{2000};
  std::size_t max_pending = 100000;  // commands awaiting replies (the output buffer's cap)
  std::string name;                  // CLIENT SETNAME on every connection when not empty
};

namespace detail {
struct conn;
}

// What client and subscriber share: one hiredis connection at a time, its
// Asio adapter, the deadlines and the reconnect loop.
class link {
 public:
  link(asio::io_context& io, options opts);
  virtual ~link();
  link(const link&) = delete;
  link& operator=(const link&) = delete;

  // Starts connecting; reconnects by itself until stop().
  void start();
  // Closes the connection; pending callbacks get `stopped`. Safe twice.
  void stop();
  // Tears the connection down (pending callbacks get connection_lost) and
  // reconnects, e.g. when a probe shows the connection is deaf.
  void reset();

  bool up() const { return up_; }
  // Called on every change: true once connected and ready, false when lost.
  void on_state(state_handler h) { on_state_ = std::move(h); }
  // Why the last connection attempt or connection failed, for logs.
  const std::string& last_error() const { return last_error_; }
  // Connections made so far (the first one included).
  std::uint64_t connects() const { return connects_; }
  std::size_t pending() const;
  const options& settings() const { return opts_; }

 protected:
  // The connection is open and AUTH/SELECT done; call ready() when the
  // subclass has done its own part.
  virtual void on_connected() = 0;
  // The connection is gone (before on_state(false)).
  virtual void on_disconnected() {}

  void ready();
  // Sends on the current connection whether or not it is ready yet.
  // `expected_replies` deadlines are queued (a SUBSCRIBE of N channels
  // gets N confirmations).
  using raw_callback = void (*)(::redisAsyncContext*, void*, void*);
  bool send(const std::vector<std::string>& args, raw_callback fn, void* privdata,
            std::size_t expected_replies);
  bool send(const resp_command& cmd, raw_callback fn, void* privdata, std::size_t expected_replies);
  // A command whose reply (or failure) goes to `then`; with `when_ready`
  // false it may go out before ready() (the handshake's own commands).
  void call(std::vector<std::string> args, reply_handler then, bool when_ready);
  void call(const resp_command& cmd, reply_handler then, bool when_ready);
  bool connected() const;
  void drop(std::error_code why, const std::string& detail);
  asio::io_context& io_;
  std::shared_ptr<int> alive_;  // handlers hold a weak_ptr: the link may be gone when they run

 private:
  friend struct detail::conn;
  void do_resolve();
  void do_connect(const std::string& address);
  void on_connect(detail::conn* c, bool ok, const std::string& error);
  void on_lost(detail::conn* c, const std::string& error);
  void handshake();
  void schedule_reconnect();
  void arm_deadline();
  void on_deadline();

  options opts_;
  std::shared_ptr<detail::conn> conn_;
  asio::ip::tcp::resolver resolver_;
  asio::steady_timer connect_timer_;
  asio::steady_timer deadline_timer_;
  asio::steady_timer reconnect_timer_;
  bool deadline_armed_ = false;
  std::uint64_t attempt_ = 0;  // a stale resolve or timer handler sees another number
  std::size_t handshake_left_ = 0;
  bool started_ = false;
  bool up_ = false;
  std::chrono::milliseconds backoff_;
  std::string last_error_;
  std::uint64_t connects_ = 0;
  state_handler on_state_;
};

class client final : public link {
 public:
  using link::link;
  ~client() override;

  // Sends one command (binary-safe arguments). `then` runs exactly once, on
  // the loop, never before command() returns: with the reply (a Redis error
  // is a reply of type error) or with an error code.
  void command(std::vector<std::string> args, reply_handler then) {
    call(std::move(args), std::move(then), true);
  }
  void command(const resp_command& cmd, reply_handler then) { call(cmd, std::move(then), true); }

 protected:
  void on_connected() override { ready(); }
};

class subscriber final : public link {
 public:
  // channel, payload (pattern is empty unless it came through PSUBSCRIBE).
  using message_handler =
      std::function<void(const std::string& channel, const std::string& payload,
                         const std::string& pattern)>;

  using link::link;
  ~subscriber() override;

  void on_message(message_handler h) { on_message_ = std::move(h); }
  // Redis confirmed a SUBSCRIBE (or PSUBSCRIBE) of this channel (pattern),
  // after a subscribe() or a reconnect: from now on nothing sent there is
  // missed until the connection goes down.
  void on_subscribed(std::function<void(const std::string& name)> h) { on_subscribed_ = std::move(h); }
  // Kept across reconnects; a no-op for what is already (un)subscribed.
  void subscribe(const std::string& channel);
  void unsubscribe(const std::string& channel);
  void psubscribe(const std::string& pattern);
  void punsubscribe(const std::string& pattern);
  const std::set<std::string>& channels() const { return channels_; }

  // hiredis' pub/sub callback (internal).
  static void on_push(::redisAsyncContext* ac, void* r, void* privdata);

 protected:
  // Resubscribes everything; up once every confirmation has arrived.
  void on_connected() override;
  void on_disconnected() override { awaiting_ = 0; }

 private:
  void send_sub(const char* verb, const std::string& name);
  void handle_push(::redisAsyncContext* ac, void* r);

  std::set<std::string> channels_;
  std::set<std::string> patterns_;
  std::size_t awaiting_ = 0;  // confirmations before the resubscribe is complete
  message_handler on_message_;
  std::function<void(const std::string&)> on_subscribed_;
};

}  // namespace chatgate::redis

namespace std {
template <>
struct is_error_code_enum<chatgate::redis::errc> : true_type {};
}  // namespace std

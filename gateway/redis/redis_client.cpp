#include "gateway/redis/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <random>

#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>

namespace chatgate::redis {

namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "redis"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::not_connected: return "redis is not connected";
      case errc::timeout: return "redis did not answer in time";
      case errc::connection_lost: return "the redis connection was lost";
      case errc::stopped: return "the redis client stopped";
      case errc::too_many_pending: return "too many redis commands pending";
    }
    return "redis error";
  }
};

using clock = std::chrono::steady_clock;

reply convert(const redisReply* r) {
  reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.kind = reply::type::string; break;
    case REDIS_REPLY_STATUS: out.kind = reply::type::status; break;
    case REDIS_REPLY_ERROR: out.kind = reply::type::error; break;
    case REDIS_REPLY_INTEGER: out.kind = reply::type::integer; break;
    case REDIS_REPLY_ARRAY: out.kind = reply::type::array; break;
    default: out.kind = reply::type::nil; break;
  }
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
      r->type == REDIS_REPLY_ERROR)
    out.str.assign(r->str, r->len);
  if (r->type == REDIS_REPLY_INTEGER) out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
  }
  return out;
}

std::string str(const redisReply* r) { return r && r->str ? std::string(r->str, r->len) : ""; }

}  // namespace

const std::error_category& redis_category() {
  static const category c;
  return c;
}

namespace detail {

// One hiredis connection and its descriptor. The link owns it; Asio
// handlers hold a weak_ptr, so a torn-down connection's late handlers do
// nothing. hiredis owns the file descriptor: the cleanup hook releases it
// from Asio before hiredis closes it.
struct conn {
  explicit conn(asio::io_context& io) : sd(io) {}

  redisAsyncContext* ac = nullptr;  // null once hiredis freed it
  asio::posix::stream_descriptor sd;
  link* owner = nullptr;
  bool want_read = false, want_write = false;
  bool read_waiting = false, write_waiting = false;
  bool connected = false;
  std::deque<clock::time_point> deadlines;  // one per awaited reply, oldest first
  std::error_code fail_reason = errc::connection_lost;
  std::weak_ptr<conn> self;

  void wait_read() {
    if (read_waiting || !want_read || !ac) return;
    read_waiting = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_read, [w = self](std::error_code ec) {
      auto c = w.lock();
      if (!c) return;
      c->read_waiting = false;
      if (ec || !c->ac || !c->want_read) return;
      redisAsyncHandleRead(c->ac);  // may free the context (cleanup clears ac)
      c->wait_read();
    });
  }

  void wait_write() {
    if (write_waiting || !want_write || !ac) return;
    write_waiting = true;
    sd.async_wait(asio::posix::stream_descriptor::wait_write, [w = self](std::error_code ec) {
      auto c = w.lock();
      if (!c) return;
      c->write_waiting = false;
      if (ec || !c->ac || !c->want_write) return;
      redisAsyncHandleWrite(c->ac);
      c->wait_write();
    });
  }

  void release() {
    want_read = want_write = false;
    if (sd.is_open()) {
      std::error_code ignored;
      sd.cancel(ignored);
      sd.release();  // hiredis closes the descriptor itself
    }
    ac = nullptr;
  }

  // hiredis' event-library hooks (idempotent, as hiredis asks).
  static void add_read(void* p) {
    auto* c = static_cast<conn*>(p);
    c->want_read = true;
    c->wait_read();
  }
  static void del_read(void* p) { static_cast<conn*>(p)->want_read = false; }
  static void add_write(void* p) {
    auto* c = static_cast<conn*>(p);
    c->want_write = true;
    c->wait_write();
  }
  static void del_write(void* p) { static_cast<conn*>(p)->want_write = false; }
  static void cleanup(void* p) { static_cast<conn*>(p)->release(); }

  // hiredis calls these inside its own stack, where freeing the context is
  // unsafe (0.14 writes to it after onConnect returns): the link hears of
  // them on the next loop turn.
  static void on_connect_cb(const redisAsyncContext* ac, int status) {
    auto* c = static_cast<conn*>(ac->data);
    const bool ok = status == REDIS_OK;
    if (ok) c->connected = true;
    std::string error = ok ? "" : ac->c.errstr;
    asio::post(c->sd.get_executor(), [w = c->self, ok, error] {
      auto c = w.lock();
      if (c && c->owner) c->owner->on_connect(c.get(), ok, error);
    });
  }
  static void on_disconnect_cb(const redisAsyncContext* ac, int) {
    auto* c = static_cast<conn*>(ac->data);
    std::string error = ac->c.err ? ac->c.errstr : "server closed the connection";
    asio::post(c->sd.get_executor(), [w = c->self, error] {
      auto c = w.lock();
      if (c && c->owner) c->owner->on_lost(c.get(), error);
    });
  }

  void reply_arrived() {
    if (!deadlines.empty()) deadlines.pop_front();
  }
};

}  // namespace detail

using detail::conn;

namespace {

// What a command's hiredis callback needs; freed by the callback, which
// hiredis runs exactly once (with a NULL reply when the context goes).
struct pending_cmd {
  reply_handler then;
  asio::io_context* io;
};

void on_reply(redisAsyncContext* ac, void* r, void* privdata) {
  std::unique_ptr<pending_cmd> p(static_cast<pending_cmd*>(privdata));
  auto* c = static_cast<conn*>(ac->data);
  c->reply_arrived();
  if (r) {
    p->then({}, convert(static_cast<redisReply*>(r)));
    return;
  }
  // Never inside hiredis' teardown: the failure arrives on the next turn.
  asio::post(*p->io, [then = std::move(p->then), ec = c->fail_reason] { then(ec, {}); });
}

}  // namespace

// ---------------------------------------------------------------- link

link::link(asio::io_context& io, options opts)
    : io_(io),
      alive_(std::make_shared<int>(0)),
      opts_(std::move(opts)),
      resolver_(io),
      connect_timer_(io),
      deadline_timer_(io),
      reconnect_timer_(io),
      backoff_(opts_.backoff_min) {}

link::~link() {
  stop();
  alive_.reset();
}

std::size_t link::pending() const { return conn_ ? conn_->deadlines.size() : 0; }

bool link::connected() const { return conn_ && conn_->ac && conn_->connected; }

void link::start() {
  if (started_) return;
  started_ = true;
  backoff_ = opts_.backoff_min;
  do_resolve();
}

void link::stop() {
  if (!started_ && !conn_) return;
  started_ = false;
  reconnect_timer_.cancel();
  drop(errc::stopped, "");
}

void link::reset() {
  if (!started_) return;
  drop(errc::connection_lost, "reset");
}

void link::do_resolve() {
  const auto attempt = ++attempt_;
  connect_timer_.expires_after(opts_.connect_timeout);
  connect_timer_.async_wait([this, w = std::weak_ptr<int>(alive_), attempt](std::error_code ec) {
    if (ec || !w.lock() || attempt != attempt_ || up_) return;
    drop(errc::timeout, "connect to " + opts_.target.redacted() + ": no answer within " +
                            std::to_string(opts_.connect_timeout.count()) + " ms");
  });
  resolver_.async_resolve(
      opts_.target.host, std::to_string(opts_.target.port),
      [this, w = std::weak_ptr<int>(alive_), attempt](std::error_code ec,
                                                      asio::ip::tcp::resolver::results_type r) {
        if (!w.lock() || attempt != attempt_ || !started_) return;
        if (ec || r.empty()) {
          drop(errc::connection_lost, "resolve " + opts_.target.host + ": " +
                                          (ec ? ec.message() : "no address"));
          return;
        }
        do_connect(r.begin()->endpoint().address().to_string());
      });
}

void link::do_connect(const std::string& address) {
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), opts_.target.port);
  if (!ac || ac->err) {
    std::string error = ac ? ac->errstr : "out of memory";
    if (ac) redisAsyncFree(ac);
    drop(errc::connection_lost, "connect to " + opts_.target.redacted() + ": " + error);
    return;
  }
  auto c = std::make_shared<conn>(io_);
  c->self = c;
  c->owner = this;
  std::error_code ec;
  c->sd.assign(ac->c.fd, ec);
  if (ec) {
    redisAsyncFree(ac);
    drop(errc::connection_lost, "connect: " + ec.message());
    return;
  }
  c->ac = ac;
  ac->data = c.get();
  ac->ev.data = c.get();
  ac->ev.addRead = conn::add_read;
  ac->ev.delRead = conn::del_read;
  ac->ev.addWrite = conn::add_write;
  ac->ev.delWrite = conn::del_write;
  ac->ev.cleanup = conn::cleanup;
  conn_ = c;
  // Sets the first write wait: writability means connect(2) finished.
  redisAsyncSetConnectCallback(ac, conn::on_connect_cb);
  redisAsyncSetDisconnectCallback(ac, conn::on_disconnect_cb);
}

void link::on_connect(conn* c, bool ok, const std::string& error) {
  if (c != conn_.get()) return;
  if (!ok) {
    drop(errc::connection_lost, "connect to " + opts_.target.redacted() + ": " + error);
    return;
  }
  handshake();
}

void link::on_lost(conn* c, const std::string& error) {
  if (c != conn_.get()) return;
  drop(errc::connection_lost, "redis " + opts_.target.redacted() + ": " + error);
}

void link::handshake() {
  std::vector<std::vector<std::string>> steps;
  const url& u = opts_.target;
  if (!u.password.empty()) {
    if (u.user.empty())
      steps.push_back({"AUTH", u.password});
    else
      steps.push_back({"AUTH", u.user, u.password});
  }
  if (u.db != 0) steps.push_back({"SELECT", std::to_string(u.db)});
  if (!opts_.name.empty()) steps.push_back({"CLIENT", "SETNAME", opts_.name});
  handshake_left_ = steps.size();
  if (steps.empty()) {
    on_connected();
    return;
  }
  conn* c = conn_.get();
  for (auto& step : steps) {
    const std::string what = step[0];
    call(std::move(step),
         [this, w = std::weak_ptr<int>(alive_), c, what](std::error_code ec, reply r) {
           if (ec || !w.lock() || c != conn_.get()) return;  // the failure dropped it already
           if (r.is_error()) {
             drop(errc::connection_lost, what + " on " + opts_.target.redacted() + ": " + r.str);
             return;
           }
           if (--handshake_left_ == 0) on_connected();
         },
         false);
  }
}

void link::ready() {
  if (up_) return;
  connect_timer_.cancel();
  up_ = true;
  backoff_ = opts_.backoff_min;
  ++connects_;
  if (on_state_) on_state_(true);
}

void link::drop(std::error_code why, const std::string& detail) {
  if (!detail.empty()) last_error_ = detail;
  ++attempt_;
  resolver_.cancel();
  connect_timer_.cancel();
  deadline_timer_.cancel();
  deadline_armed_ = false;
  const bool was_up = up_;
  up_ = false;
  if (auto c = std::move(conn_)) {
    c->owner = nullptr;
    c->fail_reason = why;
    // Pending callbacks fail with `why` (posted); inside a reply callback
    // hiredis frees once that callback returns.
    if (c->ac) redisAsyncFree(c->ac);
    asio::post(io_, [c] {});  // destroyed after hiredis has let go of it
  }
  on_disconnected();
  if (was_up && on_state_) on_state_(false);
  schedule_reconnect();
}

void link::schedule_reconnect() {
  if (!started_) return;
  // Jitter, so nodes that lost Redis together do not reconnect in step.
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const auto base = backoff_.count();
  const auto delay = std::chrono::milliseconds(base / 2 + static_cast<long>(rng() % (base / 2 + 1)));
  backoff_ = std::min(backoff_ * 2, opts_.backoff_max);
  const auto attempt = attempt_;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this, w = std::weak_ptr<int>(alive_), attempt](std::error_code ec) {
    if (ec || !w.lock() || !started_ || attempt != attempt_) return;
    do_resolve();
  });
}

resp_command::resp_command(std::size_t argc, std::size_t bytes_hint) : left_(argc) {
  buf_.reserve(bytes_hint + 16 * argc + 16);
  buf_.push_back('*');
  buf_.append(std::to_string(argc)).append("\r\n");
}

resp_command& resp_command::arg(std::string_view a) {
  if (left_ == 0) return *this;  // more than announced: ignored (send() refuses incomplete ones)
  --left_;
  buf_.push_back('$');
  buf_.append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  return *this;
}

namespace {
resp_command to_resp(const std::vector<std::string>& args) {
  std::size_t bytes = 0;
  for (const auto& a : args) bytes += a.size();
  resp_command cmd(args.size(), bytes);
  for (const auto& a : args) cmd.arg(a);
  return cmd;
}
}  // namespace

bool link::send(const std::vector<std::string>& args, raw_callback fn, void* privdata,
                std::size_t expected_replies) {
  return send(to_resp(args), fn, privdata, expected_replies);
}

bool link::send(const resp_command& cmd, raw_callback fn, void* privdata, std::size_t expected_replies) {
  if (!connected() || cmd.missing() != 0) return false;
  // hiredis reads the command's name from the text (SUBSCRIBE and the like
  // change how it reads replies) as it does for the commands it formats.
  if (redisAsyncFormattedCommand(conn_->ac, fn, privdata, cmd.text().data(), cmd.text().size()) != REDIS_OK)
    return false;
  const auto deadline = clock::now() + opts_.command_timeout;
  for (std::size_t i = 0; i < expected_replies; ++i) conn_->deadlines.push_back(deadline);
  arm_deadline();
  return true;
}

void link::call(std::vector<std::string> args, reply_handler then, bool when_ready) {
  call(to_resp(args), std::move(then), when_ready);
}

void link::call(const resp_command& cmd, reply_handler then, bool when_ready) {
  auto fail = [&](errc e) { asio::post(io_, [then = std::move(then), e] { then(e, {}); }); };
  if ((when_ready && !up_) || !connected()) return fail(errc::not_connected);
  if (conn_->deadlines.size() >= opts_.max_pending) return fail(errc::too_many_pending);
  auto* p = new pending_cmd{std::move(then), &io_};
  if (!send(cmd, on_reply, p, 1)) {
    // hiredis refused it (the context is going away): nothing will call back.
    auto then_again = std::move(p->then);
    delete p;
    asio::post(io_, [then = std::move(then_again)] { then(errc::not_connected, {}); });
  }
}

void link::arm_deadline() {
  if (deadline_armed_ || !conn_ || conn_->deadlines.empty()) return;
  deadline_armed_ = true;
  deadline_timer_.expires_at(conn_->deadlines.front());
  deadline_timer_.async_wait([this, w = std::weak_ptr<int>(alive_)](std::error_code ec) {
    if (ec == asio::error::operation_aborted || !w.lock()) return;
    deadline_armed_ = false;
    on_deadline();
  });
}

void link::on_deadline() {
  if (!conn_) return;
  auto overdue = [this] {
    return conn_ && !conn_->deadlines.empty() && conn_->deadlines.front() <= clock::now();
  };
  if (overdue() && conn_->ac) {
    // A reply that came while the loop was busy elsewhere is not late:
    // read what the socket holds before giving up on the connection.
    auto c = conn_;
    redisAsyncHandleRead(c->ac);
  }
  if (overdue()) {
    drop(errc::timeout, "redis " + opts_.target.redacted() + ": no reply within " +
                            std::to_string(opts_.command_timeout.count()) + " ms");
    return;
  }
  arm_deadline();
}

// ---------------------------------------------------------------- client

// Destruction is not a state change anyone is told about.
client::~client() {
  on_state({});
  stop();
}

// ---------------------------------------------------------------- subscriber

subscriber::~subscriber() {
  on_state({});
  stop();
}

void subscriber::on_push(redisAsyncContext* ac, void* r, void* privdata) {
  static_cast<subscriber*>(privdata)->handle_push(ac, r);
}

void subscriber::send_sub(const char* verb, const std::string& name) {
  if (!connected()) return;  // on_connected() sends everything after a reconnect
  if (send({verb, name}, on_push, this, 1) && !up()) ++awaiting_;
}

void subscriber::subscribe(const std::string& channel) {
  if (channels_.insert(channel).second) send_sub("SUBSCRIBE", channel);
}

void subscriber::unsubscribe(const std::string& channel) {
  if (channels_.erase(channel)) send_sub("UNSUBSCRIBE", channel);
}

void subscriber::psubscribe(const std::string& pattern) {
  if (patterns_.insert(pattern).second) send_sub("PSUBSCRIBE", pattern);
}

void subscriber::punsubscribe(const std::string& pattern) {
  if (patterns_.erase(pattern)) send_sub("PUNSUBSCRIBE", pattern);
}

void subscriber::on_connected() {
  awaiting_ = 0;
  auto send_all = [this](const char* verb, const std::set<std::string>& names) {
    if (names.empty()) return;
    std::vector<std::string> args{verb};
    args.insert(args.end(), names.begin(), names.end());
    if (send(args, on_push, this, names.size())) awaiting_ += names.size();
  };
  send_all("SUBSCRIBE", channels_);
  send_all("PSUBSCRIBE", patterns_);
  if (awaiting_ == 0) ready();
}

void subscriber::handle_push(redisAsyncContext* ac, void* r) {
  if (!r) return;  // the context is going away
  auto* c = static_cast<conn*>(ac->data);
  const auto* rep = static_cast<const redisReply*>(r);
  if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 3) {
    if (rep->type == REDIS_REPLY_ERROR && c->owner == this)
      drop(errc::connection_lost, "subscribe on " + settings().target.redacted() + ": " + str(rep));
    return;
  }
  const std::string kind = str(rep->element[0]);
  if (kind == "message") {
    const std::string channel = str(rep->element[1]);
    if (on_message_ && channels_.count(channel)) on_message_(channel, str(rep->element[2]), "");
    return;
  }
  if (kind == "pmessage" && rep->elements >= 4) {
    const std::string pattern = str(rep->element[1]);
    if (on_message_ && patterns_.count(pattern))
      on_message_(str(rep->element[2]), str(rep->element[3]), pattern);
    return;
  }
  // A confirmation of (p)(un)subscribe.
  c->reply_arrived();
  if (c->owner != this) return;
  if (kind == "subscribe" || kind == "psubscribe") {
    const std::string name = str(rep->element[1]);
    const bool wanted = kind == "subscribe" ? channels_.count(name) : patterns_.count(name);
    if (wanted && on_subscribed_) on_subscribed_(name);
  }
  if (c->owner == this && !up() && awaiting_ > 0 && --awaiting_ == 0) ready();
}

}  // namespace chatgate::redis

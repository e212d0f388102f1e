#include "gateway/transport/udp_server.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "gateway/hub/participant.hpp"
#include "gateway/transport/sockets.hpp"
#include "protocol/line_framer.hpp"
#include "protocol/text_command.hpp"

namespace chatgate {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t max_datagram = 65536;
constexpr auto error_interval = std::chrono::seconds(1);  // `! ` replies to one peer (SPEC 9)
// Lines sent to unvalidated peers are remembered this long (one to two
// periods), at most this many a period: a line that comes straight back is
// an echo server's reflection, not a person.
constexpr auto reflection_period = std::chrono::seconds(1);
constexpr std::size_t max_remembered_lines = 65536;
// All unvalidated peers together may send as many lines as this many
// clients: room for a few nc users at once, not for a flood of ports.
constexpr double unvalidated_clients = 10.0;

// `/ok CODE` (any case); the code, or null when the line is something else.
std::optional<std::string_view> ok_argument(std::string_view line) {
  auto lower = [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); };
  if (line.size() < 3 || line[0] != '/' || lower(line[1]) != 'o' || lower(line[2]) != 'k') return std::nullopt;
  std::string_view rest = line.substr(3);
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') return std::nullopt;
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\t')) rest.remove_suffix(1);
  return rest;
}

}  // namespace

// What the hub sees of one UDP peer: replies go out as datagrams, one per line.
class udp_server::peer final : public participant {
 public:
  peer(udp_server& server, endpoint ep) : server_(server), ep_(std::move(ep)) {}

  void deliver(const shared_bytes& bytes) override {
    if (closed_) return;
    std::string_view rest = *bytes;
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      const std::size_t len = end == std::string_view::npos ? rest.size() : end + 1;
      server_.send_line(*this, rest.substr(0, len));
      rest.remove_prefix(len);
    }
  }

  std::size_t queued_bytes() const override { return 0; }  // never queues
  void drop_slow() override {}

  void close() override {
    if (closed_) return;
    closed_ = true;
    server_.forget_later(ep_);
  }

  bool closed() const { return closed_; }
  const endpoint& where() const { return ep_; }

  client_id id = 0;
  clock::time_point last_seen{};
  bool validated = false;
  std::list<endpoint>::iterator in_unvalidated{};  // while not validated
  std::optional<clock::time_point> last_error;     // when a `! ` line last went out

 private:
  udp_server& server_;
  endpoint ep_;
  bool closed_ = false;
};

udp_server::udp_server(asio::io_context& io, const config& cfg, hub& h, metrics& m,
                       backpressure& bp, const asio::ip::udp::endpoint& at)
    : socket_(io),
      sweep_timer_(io),
      cfg_(cfg),
      hub_(h),
      metrics_(m),
      pressure_(bp),
      buffer_(max_datagram, '\0'),
      budget_(std::max<std::size_t>(1024, 2 * cfg.max_udp_peers)),
      unvalidated_limit_(unvalidated_clients * cfg.burst, clock::now()),
      sent_(max_remembered_lines, reflection_period) {
  open_datagram(socket_, at, "udp chat (--udp-port)");
}

udp_server::~udp_server() = default;

void udp_server::start() {
  do_receive();
  do_sweep();
}

void udp_server::stop() {
  stopped_ = true;
  std::error_code ignored;
  sweep_timer_.cancel();
  // The hub has told every peer goodbye by now; let them go.
  for (auto& [ep, p] : peers_) hub_.disconnect(p->id);
  peers_.clear();
  unvalidated_.clear();
  metrics_.udp_unvalidated = 0;
  socket_.close(ignored);
}

void udp_server::do_receive() {
  socket_.async_receive_from(asio::buffer(buffer_), sender_,
                             [this](std::error_code ec, std::size_t n) { on_receive(ec, n); });
}

void udp_server::on_receive(std::error_code ec, std::size_t n) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (!ec) {
    ++metrics_.udp_datagrams[0][0];
    on_datagram(sender_, std::string_view(buffer_.data(), n));
    metrics_.udp_budget_sources = budget_.sources();
  }
  do_receive();
}

void udp_server::on_datagram(const endpoint& from, std::string_view data) {
  // Well-known services (echo 7, chargen 19, DNS 53...) are never chat
  // programs; answering them is how reflection loops start.
  if (from.port() < 1024) return metrics_.count_udp_drop(udp_drop::low_port);
  const auto now = clock::now();
  auto it = peers_.find(from);
  peer* p = it == peers_.end() ? nullptr : it->second.get();
  if (!p || !p->validated) {
    // A line this server just sent there, coming back: an echo at that
    // address (perhaps another chatgate). Answering it would loop.
    if (sent_.count(hash_(from, data), now) > 0) return metrics_.count_udp_drop(udp_drop::reflection);
    budget_.received(from.address(), data.size(), now);
  }
  const bool fresh = p == nullptr;
  if (fresh) p = &admit(from);
  p->last_seen = now;
  // Right after the welcome (SPEC 9).
  if (fresh) send_line(*p, ok_prompt(from));

  const client_id id = p->id;
  // A final line without '\n' counts, so flush after feeding.
  protocol::line_framer framer(cfg_.max_message_bytes + protocol::command_slack);
  auto on_line = [&](std::string_view line) {
    if (auto code = ok_argument(line)) {
      on_ok(*p, *code);
    } else if (!p->validated && !unvalidated_limit_.allow(unvalidated_clients * cfg_.rate,
                                                          unvalidated_clients * cfg_.burst, clock::now())) {
      metrics_.count_udp_drop(udp_drop::unvalidated_rate);
      send_line(*p, "! slow down\n");
    } else if (auto request = protocol::parse_text_line(line)) {
      // The budget cuts /help short for an unvalidated peer, and it is the
      // one who needs to know how to validate: the prompt goes first.
      if (!p->validated && std::holds_alternative<protocol::req::help>(request->body))
        send_line(*p, ok_prompt(from));
      hub_.handle(id, std::move(*request));
    }
    return !p->closed();  // `/quit` ends the datagram too
  };
  auto on_too_long = [&] {
    hub_.handle(id, protocol::request{protocol::req::invalid{protocol::error_code::too_long,
                                                             "message too long"},
                                      nullptr});
    return true;
  };
  framer.feed(data, on_line, on_too_long);
  framer.flush(on_line);
}

udp_server::peer& udp_server::admit(const endpoint& from) {
  // Unvalidated peers have their own cap; the oldest makes room.
  if (unvalidated_.size() >= cfg_.max_udp_peers) {
    metrics_.count_drop(drop_reason::udp_evicted);
    forget(unvalidated_.front());
  }
  auto owned = std::make_unique<peer>(*this, from);
  peer& p = *owned;
  peers_.emplace(from, std::move(owned));
  p.in_unvalidated = unvalidated_.insert(unvalidated_.end(), from);
  ++metrics_.udp_unvalidated;
  p.id = hub_.connect(p, protocol::via::udp, /*json=*/false, /*counted=*/false);
  // Debug only: forged sources must not be able to flood the log.
  spdlog::debug("udp {} connected, unvalidated (client {})", to_text(from), p.id);
  return p;
}

void udp_server::on_ok(peer& p, std::string_view code) {
  ++metrics_.received[metrics::at(protocol::via::udp)];
  if (p.validated) return send_line(p, "* already validated\n");
  if (code.empty()) return send_line(p, "! usage: /ok CODE\n");
  // Codes are lower case; one typed in capitals is the same code.
  const std::string expected = code_for(p.where());
  const bool same = code.size() == expected.size() &&
                    std::equal(code.begin(), code.end(), expected.begin(), [](char a, char b) {
                      return (a >= 'A' && a <= 'Z' ? static_cast<char>(a + 32) : a) == b;
                    });
  if (!same)
    return send_line(p, "! wrong code: send /ok with the code this server sent to your address\n");
  if (hub_.full()) {
    metrics_.count_drop(drop_reason::server_full);
    return send_line(p, "! server full\n");
  }
  p.validated = true;
  unvalidated_.erase(p.in_unvalidated);
  --metrics_.udp_unvalidated;
  ++metrics_.udp_validations;
  spdlog::info("udp {} connected (client {})", to_text(p.where()), p.id);
  send_line(p, "* validated, you receive everything now\n");
  hub_.validate(p.id);  // then the room's history, as on a join
}

std::string udp_server::ok_prompt(const endpoint& who) const {
  return "* send /ok " + code_for(who) + " to receive everything\n";
}

std::string udp_server::code_for(const endpoint& who) const {
  // 60 bits of a keyed hash of the address and port: unguessable without
  // receiving there, and the same every time that peer asks.
  static constexpr char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
  std::uint64_t h = hash_(who, "/ok");
  std::string code;
  for (int i = 0; i < 12; ++i, h >>= 5) code.push_back(alphabet[h & 31]);
  return code;
}

void udp_server::send_line(peer& p, std::string_view line) {
  const auto now = clock::now();
  if (line.size() >= 2 && line[0] == '!' && line[1] == ' ') {
    if (p.last_error && now - *p.last_error < error_interval)
      return metrics_.count_udp_drop(udp_drop::error_rate);
    p.last_error = now;
  }
  if (!p.validated) {
    // What does not fit is dropped, never queued; what cannot be
    // remembered (to recognise it coming back) is not sent either.
    if (!budget_.spend(p.where().address(), line.size(), now) || !sent_.record(hash_(p.where(), line), now)) {
      metrics_.udp_budget_dropped_bytes += line.size();
      return metrics_.count_udp_drop(udp_drop::budget);
    }
  }
  send_to(p.where(), line);
}

void udp_server::send_to(const endpoint& to, std::string_view bytes) {
  std::error_code ec;
  socket_.send_to(asio::buffer(bytes.data(), bytes.size()), to, 0, ec);
  if (ec) ++metrics_.udp_send_drops;
  else ++metrics_.udp_datagrams[0][1];
}

void udp_server::forget_later(const endpoint& who) {
  asio::post(socket_.get_executor(), [this, who] { forget(who); });
}

void udp_server::forget(const endpoint& who) {
  auto it = peers_.find(who);
  if (it == peers_.end()) return;
  peer& p = *it->second;
  if (!p.validated) {
    unvalidated_.erase(p.in_unvalidated);
    --metrics_.udp_unvalidated;
  }
  if (p.validated) spdlog::info("udp {} disconnected (client {})", to_text(who), p.id);
  hub_.disconnect(p.id);
  peers_.erase(it);
}

void udp_server::do_sweep() {
  if (stopped_) return;
  const auto idle = std::chrono::seconds(cfg_.udp_idle_s);
  const auto now = clock::now();
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto next = std::next(it);
    if (now - it->second->last_seen >= idle) {
      metrics_.count_drop(drop_reason::udp_idle);
      forget(it->first);
    }
    it = next;
  }
  budget_.sweep(now);
  metrics_.udp_budget_sources = budget_.sources();
  // Check a few times per idle period, at least once a second.
  sweep_timer_.expires_after(std::min<std::chrono::milliseconds>(std::chrono::seconds(1), idle / 4));
  sweep_timer_.async_wait([this](std::error_code ec) {
    if (!ec) do_sweep();
  });
}

}  // namespace chatgate

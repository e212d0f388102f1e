// Phases of a run: connect, join and settle, then one measured stage per rate.
#include "engine.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <sys/epoll.h>
#include <unistd.h>

#include "json_writer.hpp"
#include "proc_stats.hpp"

namespace loadgen {

namespace {

constexpr int64_t ms = 1000000;
constexpr int64_t sec = 1000000000;
constexpr size_t max_stages = 64;
constexpr int64_t min_tick_ns = 50000;  // open loop sends in batches at most this late

uint32_t make_run_id() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    uint32_t x = static_cast<uint32_t>(ts.tv_nsec) ^ static_cast<uint32_t>(getpid() << 16) ^
                 static_cast<uint32_t>(ts.tv_sec);
    return x ? x : 1;
}

const char* name_of(transport t) { return t == transport::ws ? "ws" : t == transport::tcp ? "tcp" : "irc"; }

}  // namespace

engine::engine(const options& o) : opt_(o), codec_(o.run_id ? o.run_id : make_run_id()) {
    if (opt_.tls) {
        // A load generator measures the server, not the certificate: no verification.
        tls_ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(tls_ctx_, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_mode(tls_ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        // Read whole socket buffers, not a record header and then its body.
        SSL_CTX_set_read_ahead(tls_ctx_, 1);
    }
    int total = opt_.clients + opt_.slow;
    clients_.resize(static_cast<size_t>(total));
    for (int i = 0; i < total; ++i) {
        clients_[i].proto = i < opt_.senders ? opt_.sender_proto : opt_.proto;
        clients_[i].slow = i >= opt_.clients;
    }
    senders_.resize(static_cast<size_t>(opt_.senders));
    for (int s = 0; s < opt_.senders; ++s) {
        sender_state& ss = senders_[s];
        ss.client = s;
        // chatgate's text clients do not get their own message back; everyone else does.
        ss.hears_self = !(opt_.kind == server_kind::chatgate && clients_[s].proto == transport::tcp);
        // Senders on another transport than the receivers (the bridge) are
        // acknowledged by a receiver: a WebSocket sender hears itself long
        // before 995 text or IRC receivers have read the message, so its own
        // receipt would let the window run ahead of them until the server's
        // queues fill and it sheds load.
        const bool bridged = opt_.sender_proto != opt_.proto && opt_.senders < opt_.clients;
        if (ss.hears_self && !bridged) ss.observer = s;
        else if (opt_.senders < opt_.clients) ss.observer = opt_.senders;
        else ss.observer = s == 0 ? (opt_.clients > 1 ? 1 : -1) : 0;
    }
    last_seq_.assign(static_cast<size_t>(opt_.clients) * senders_.size(), 0);
    presence_bytes_.assign(static_cast<size_t>(total), 0);
    stages_.reserve(max_stages);
    say_prefix_ = "{\"type\":\"say\",\"room\":\"" + opt_.room + "\",\"text\":\"";
}

engine::~engine() {
    for (client& c : clients_) {
        if (c.ssl) SSL_free(c.ssl);
        if (c.fd >= 0) ::close(c.fd);
    }
    if (tls_ctx_) SSL_CTX_free(tls_ctx_);
    if (epfd_ >= 0) ::close(epfd_);
}

int engine::run() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    rss_start_kib_ = rss_kib(opt_.pid);
    if (!connect_all()) {
        report_error(first_error_.empty() ? "connect failed" : first_error_);
        return 2;
    }
    join_and_settle();
    rss_connected_kib_ = rss_kib(opt_.pid);
    run_stages();
    hold();
    return 0;
}

// Lets the caller read the server's own counters while every client is still
// connected and reading; closing them all at once is a storm of its own.
void engine::hold() {
    if (!opt_.hold) return;
    std::printf("{\"type\":\"done\"}\n");
    std::fflush(stdout);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = stdin_id;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, 0, &ev) != 0) return;
    // With a shared run id, another process sends while we hold: count what
    // arrives in a stage of its own and report it when told to stop.
    if (opt_.run_id) {
        stages_.emplace_back();
        hold_stage_ = static_cast<int>(stages_.size() - 1);
        stages_.back().start_ns = monotonic_ns();
    }
    int disconnected0 = disconnected_;
    while (holding_) {
        pump(monotonic_ns() + sec);
        flush_dirty();
    }
    if (hold_stage_ < 0) return;
    const stage_stats& st = stages_[static_cast<size_t>(hold_stage_)];
    auto lat_ms = [&](double q) { return static_cast<double>(st.latency.quantile(q)) / 1e6; };
    json_writer j;
    j.field("type", "hold").field("label", opt_.label).field("clients", opt_.clients)
        .field("proto", name_of(opt_.proto)).field("readers", readers_)
        .field("delivered", st.delivered).field("disconnected", disconnected_ - disconnected0)
        .field("connect_s", connect_s_).field("settle_s", settle_s_);
    j.begin("latency_ms").field("p50", lat_ms(0.5)).field("p99", lat_ms(0.99))
        .field("max", static_cast<double>(st.latency.max()) / 1e6).end();
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
}

void engine::run_stages() {
    // JITs, allocators and TCP windows settle before anything is scored.
    if (opt_.warmup_s > 0 && opt_.senders > 0) run_stage(opt_.rates[0], true);
    if (opt_.senders == 0) {
        run_stage(0);
        return;
    }
    if (!opt_.sweep) {
        for (double r : opt_.rates) {
            if (stages_.size() >= max_stages) break;
            run_stage(r);
        }
        return;
    }
    double clean = 0, dirty = 0;
    for (double r = opt_.rates[0]; r <= opt_.sweep_max && stages_.size() < max_stages; r *= opt_.sweep_factor) {
        run_stage(r);
        if (!stage_clean(stages_.back())) { dirty = r; break; }
        clean = r;
    }
    for (int k = 0; k < opt_.sweep_refine && dirty > 0 && disconnected_ == 0 && stages_.size() < max_stages; ++k) {
        double mid = clean > 0 ? std::sqrt(clean * dirty) : dirty / opt_.sweep_factor;
        run_stage(mid);
        if (stage_clean(stages_.back())) clean = mid;
        else dirty = mid;
    }
    json_writer j;
    j.field("type", "sweep").field("label", opt_.label).field("max_clean_rate", clean)
        .field("first_dirty_rate", dirty).field("p99_limit_ms", opt_.p99_limit_ms)
        .field("clients", opt_.clients).field("senders", opt_.senders)
        .field("stages", static_cast<uint64_t>(stages_.size()));
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
}

// Nothing is timed while clients connect, so let what the server sends them
// (welcome, history, everyone's `joined`) pile up: one read then takes many
// frames instead of one. 2 ms is far too short for a server queue to fill.
void engine::coalesce() {
    timespec ts{0, 2 * ms};
    nanosleep(&ts, nullptr);
}

bool engine::connect_all() {
    int total = static_cast<int>(clients_.size());
    int next = 0;
    int64_t t0 = monotonic_ns();
    connect_t0_ = t0;
    while (ready_ + failed_ < total) {
        while (next < total && connecting_ < opt_.connect_concurrency) start_connect(next++);
        flush_dirty();
        coalesce();
        pump(now_ns_ + 50 * ms);
        if (failed_ > 0) return false;
        if (now_ns_ - t0 > opt_.connect_timeout_s * sec) {
            first_error_ = "connect phase timed out";
            return false;
        }
    }
    connect_s_ = static_cast<double>(monotonic_ns() - t0) / sec;
    return true;
}

void engine::join_and_settle() {
    if (opt_.kind == server_kind::chatgate) {
        std::string ws_join = "{\"type\":\"join\",\"room\":\"" + opt_.room + "\"}";
        std::string tcp_join = "/join " + opt_.room + "\n";
        for (size_t i = 0; i < clients_.size(); ++i) {
            if (clients_[i].proto == transport::ws) {
                queue_ws(static_cast<int>(i), op_text, ws_join.data(), ws_join.size());
                ++join_expected_;
            }
            else if (clients_[i].proto == transport::tcp && opt_.room != "lobby") queue_bytes(static_cast<int>(i), tcp_join.data(), tcp_join.size());
        }
    }
    joining_ = join_expected_ > 0;
    joined_s_ = connect_s_;  // no explicit join: connecting joined the default room
    flush_dirty();
    int64_t t0 = monotonic_ns();
    last_read_ns_ = t0;
    now_ns_ = t0;
    // Settled when nothing arrived for settle_ms (joined events, history, welcome).
    while (now_ns_ - last_read_ns_ < opt_.settle_ms * ms && now_ns_ - t0 < opt_.connect_timeout_s * sec) {
        coalesce();
        pump(last_read_ns_ + opt_.settle_ms * ms);
        flush_dirty();
    }
    settle_s_ = static_cast<double>(now_ns_ - t0) / sec;
    joining_ = false;
}

bool engine::send_message(int s, int64_t sent_ns) {
    sender_state& ss = senders_[s];
    client& c = clients_[ss.client];
    stage_stats& st = stages_.back();
    if (c.state != client::phase::open || c.out.size() >= opt_.max_outbuf) {
        ++st.unsent;
        return false;
    }
    marker m;
    m.stage = static_cast<uint32_t>(stages_.size() - 1);
    m.sender = static_cast<uint32_t>(s);
    m.seq = ++ss.seq;
    m.sent_ns = static_cast<uint64_t>(sent_ns);
    size_t size = static_cast<size_t>(opt_.size);
    if (c.proto == transport::tcp) {
        std::string line(size + 1, '\n');
        codec_.write(&line[0], size, m);
        queue_bytes(ss.client, line.data(), line.size());
    } else if (opt_.kind == server_kind::chatgate) {
        std::string frame = say_prefix_;
        frame.resize(say_prefix_.size() + size);
        codec_.write(&frame[say_prefix_.size()], size, m);
        frame += "\"}";
        queue_ws(ss.client, op_text, frame.data(), frame.size());
    } else {
        std::string text(size, 'x');
        codec_.write(&text[0], size, m);
        queue_ws(ss.client, op_text, text.data(), text.size());
    }
    ++st.sent;
    st.expected += static_cast<uint64_t>(readers_ - (ss.hears_self ? 0 : 1));
    ++ss.inflight;
    return true;
}

void engine::run_stage(double rate, bool warmup) {
    if (!stages_.empty()) quiesce();
    stages_.emplace_back();
    stage_stats& st = stages_.back();
    st.rate = rate;
    st.warmup = warmup;
    size_t k = senders_.size();
    now_ns_ = monotonic_ns();
    st.start_ns = now_ns_;
    st.end_ns = now_ns_ + static_cast<int64_t>((warmup ? opt_.warmup_s : opt_.duration_s) * sec);
    int64_t interval = rate > 0 ? static_cast<int64_t>(1e9 * static_cast<double>(k) / rate) : 0;
    for (size_t s = 0; s < k; ++s) {
        senders_[s].next_ns = st.start_ns + interval * static_cast<int64_t>(s) / static_cast<int64_t>(k);
        senders_[s].inflight = 0;
        senders_[s].last_ack_ns = now_ns_;
    }
    int disconnected0 = disconnected_, slow0 = slow_dropped_;
    double cpu0 = cpu_seconds(opt_.pid), self0 = self_cpu_seconds();
    int64_t next_sample = now_ns_;
    while (now_ns_ < st.end_ns) {
        int64_t wake = st.end_ns;
        for (size_t s = 0; s < k; ++s) {
            sender_state& ss = senders_[s];
            if (rate > 0) {
                for (; ss.next_ns <= now_ns_; ss.next_ns += interval) send_message(static_cast<int>(s), ss.next_ns);
                wake = std::min(wake, ss.next_ns);
                continue;
            }
            if (ss.inflight >= opt_.window && now_ns_ - ss.last_ack_ns > 5 * sec) {
                // Nothing acknowledged for 5 s (far beyond any queueing delay): the
                // messages were lost, so reopen the window rather than stall for good.
                ss.inflight = 0;
                ss.last_ack_ns = now_ns_;
                ++st.stalls;
            }
            const client& c = clients_[ss.client];
            while (ss.inflight < opt_.window && c.out.size() < opt_.max_outbuf && c.state == client::phase::open)
                send_message(static_cast<int>(s), now_ns_);
        }
        flush_dirty();
        if (now_ns_ >= next_sample) {
            st.rss_peak_kib = std::max(st.rss_peak_kib, rss_kib(opt_.pid));
            next_sample = now_ns_ + 100 * ms;
        }
        wake = std::max(std::min(wake, next_sample), now_ns_ + min_tick_ns);
        pump(wake);
    }
    double cpu1 = cpu_seconds(opt_.pid);
    if (cpu0 >= 0 && cpu1 >= 0) st.server_cpu_s = cpu1 - cpu0;
    st.loadgen_cpu_s = self_cpu_seconds() - self0;
    drain(st);
    probe_slow_clients();
    st.rss_end_kib = rss_kib(opt_.pid);
    st.rss_peak_kib = std::max(st.rss_peak_kib, st.rss_end_kib);
    st.disconnected = disconnected_ - disconnected0;
    st.slow_dropped = slow_dropped_ - slow0;
    report_stage(stages_.size() - 1);
}

void engine::drain(stage_stats& st) {
    const int64_t quiet = 500 * ms;
    int64_t limit = st.end_ns + opt_.drain_ms * ms;
    while (st.delivered < st.expected && now_ns_ < limit) {
        int64_t last = std::max(st.last_delivery_ns, st.end_ns);
        if (now_ns_ - last > quiet) break;
        pump(std::min(limit, last + quiet + 1));
        flush_dirty();
    }
}

// Before the next stage, let the backlog of a dirty one flow out (at most 10 s):
// a stage should not pay for the one before it.
void engine::quiesce() {
    now_ns_ = monotonic_ns();
    int64_t limit = now_ns_ + 10 * sec;
    last_read_ns_ = now_ns_;
    while (now_ns_ < limit && now_ns_ - last_read_ns_ < 200 * ms) {
        pump(std::min(limit, last_read_ns_ + 200 * ms));
        flush_dirty();
    }
}

// A server that drops a stuck client closes a socket whose receive window is
// full, so its FIN waits behind the unread bytes: read them all (and discard
// them) until the close shows or nothing arrives for 300 ms, then stop again.
void engine::probe_slow_clients() {
    if (opt_.slow == 0) return;
    probing_slow_ = true;
    for (size_t i = static_cast<size_t>(opt_.clients); i < clients_.size(); ++i)
        if (clients_[i].state == client::phase::open) set_slow_reading(static_cast<int>(i), true);
    now_ns_ = monotonic_ns();
    int64_t limit = now_ns_ + 3 * sec;
    last_read_ns_ = now_ns_;
    while (now_ns_ < limit && now_ns_ - last_read_ns_ < 300 * ms) {
        pump(std::min(limit, last_read_ns_ + 300 * ms));
        flush_dirty();
    }
    probing_slow_ = false;
    for (size_t i = static_cast<size_t>(opt_.clients); i < clients_.size(); ++i)
        if (clients_[i].state == client::phase::open) set_slow_reading(static_cast<int>(i), false);
}

bool engine::stage_clean(const stage_stats& st) const {
    double p99_ms = static_cast<double>(st.latency.quantile(0.99)) / 1e6;
    return st.sent > 0 && st.delivered >= st.expected && st.unsent == 0 && st.disconnected == 0 &&
           st.out_of_order == 0 && p99_ms <= opt_.p99_limit_ms;
}

void engine::report_stage(size_t idx) {
    const stage_stats& st = stages_[idx];
    double dur = std::max(1e-9, static_cast<double>(st.end_ns - st.start_ns) / sec);
    size_t conns = clients_.size();
    auto lat_ms = [&](double q) { return static_cast<double>(st.latency.quantile(q)) / 1e6; };
    const char* mode = senders_.empty() ? "idle" : st.rate > 0 ? "open" : "closed";
    uint64_t presence_max = 0, presence_sum = 0;
    for (uint64_t b : presence_bytes_) {
        presence_max = std::max(presence_max, b);
        presence_sum += b;
    }
    double presence_mean = presence_bytes_.empty() ? 0.0
                               : static_cast<double>(presence_sum) / static_cast<double>(presence_bytes_.size());
    json_writer j;
    j.field("type", "stage").field("label", opt_.label)
        .field("server_kind", opt_.kind == server_kind::chatgate ? "chatgate" : "plain")
        .field("stage", static_cast<uint64_t>(idx)).field("warmup", st.warmup).field("mode", mode).field("rate", st.rate)
        .field("duration_s", dur).field("clients", opt_.clients).field("proto", name_of(opt_.proto))
        .field("senders", opt_.senders).field("sender_proto", name_of(opt_.sender_proto))
        .field("slow", opt_.slow).field("size", opt_.size).field("window", opt_.window)
        .field("sent", st.sent).field("unsent", st.unsent).field("msgs_per_s", st.sent / dur)
        .field("expected", st.expected).field("delivered", st.delivered)
        .field("lost", st.expected > st.delivered ? st.expected - st.delivered : uint64_t{0})
        .field("loss_pct", st.expected ? 100.0 * (1.0 - static_cast<double>(std::min(st.delivered, st.expected)) /
                                                          static_cast<double>(st.expected)) : 0.0)
        .field("out_of_order", st.out_of_order).field("stalls", st.stalls)
        .field("deliveries_per_s", st.in_window / dur);
    j.begin("latency_ms").field("p50", lat_ms(0.5)).field("p90", lat_ms(0.9)).field("p99", lat_ms(0.99))
        .field("p999", lat_ms(0.999)).field("max", static_cast<double>(st.latency.max()) / 1e6)
        .field("mean", st.latency.mean() / 1e6).end();
    double per_conn = rss_connected_kib_ > rss_start_kib_
                          ? static_cast<double>(rss_connected_kib_ - rss_start_kib_) * 1024.0 / static_cast<double>(conns)
                          : 0.0;
    j.begin("server").field("pid", opt_.pid).field("rss_start_kib", rss_start_kib_)
        .field("rss_connected_kib", rss_connected_kib_).field("per_conn_bytes", per_conn)
        .field("rss_peak_kib", st.rss_peak_kib).field("rss_end_kib", st.rss_end_kib)
        .field("cpu_s", st.server_cpu_s).field("cpu_pct", st.server_cpu_s >= 0 ? 100.0 * st.server_cpu_s / dur : -1.0)
        .field("cpu_ns_per_delivery", st.in_window && st.server_cpu_s >= 0 ? st.server_cpu_s * 1e9 / st.in_window : 0.0)
        .end();
    j.begin("loadgen").field("cpu_s", st.loadgen_cpu_s).field("cpu_pct", 100.0 * st.loadgen_cpu_s / dur)
        .field("cpu_ns_per_delivery", st.in_window ? st.loadgen_cpu_s * 1e9 / st.in_window : 0.0)
        .field("bytes_in", bytes_in_).end();
    j.field("connections", static_cast<uint64_t>(conns)).field("disconnected", st.disconnected)
        .field("slow_dropped", st.slow_dropped).field("connect_s", connect_s_).field("settle_s", settle_s_)
        .field("joined_s", joined_s_).field("presence_bytes_max", presence_max)
        .field("presence_bytes_mean", presence_mean)
        .field("clean", stage_clean(st));
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
}

void engine::report_error(const std::string& what) {
    json_writer j;
    j.field("type", "error").field("label", opt_.label).field("error", what)
        .field("connected", ready_).field("failed", failed_)
        .field("connections", static_cast<uint64_t>(clients_.size()));
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
}

}  // namespace loadgen

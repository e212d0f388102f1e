// The load generator: one thread, one epoll set, every client socket non-blocking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <openssl/ssl.h>

#include "histogram.hpp"
#include "options.hpp"
#include "wire.hpp"

namespace loadgen {

struct client {
    enum class phase : uint8_t { idle, connecting, tls_handshaking, handshaking, greeting, open, closed };
    int fd = -1;
    SSL* ssl = nullptr;       // --tls: WebSocket over TLS
    transport proto = transport::ws;
    phase state = phase::idle;
    bool slow = false;        // never reads once open
    bool polling_out = false; // EPOLLOUT registered
    bool dirty = false;       // queued for flush_dirty()
    std::string in;           // partial frame or line carried to the next read
    std::string out;          // bytes the socket did not take yet
};

struct sender_state {
    int client = 0;
    int observer = -1;        // the client whose receipt acknowledges a message (closed loop)
    bool hears_self = false;  // the server sends the sender its own message
    uint64_t seq = 0;
    int64_t inflight = 0;
    int64_t next_ns = 0;      // open loop: next scheduled send
    int64_t last_ack_ns = 0;
};

struct stage_stats {
    double rate = 0;
    bool warmup = false;
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    int64_t last_delivery_ns = 0;
    uint64_t sent = 0;
    uint64_t unsent = 0;
    uint64_t expected = 0;
    uint64_t delivered = 0;
    uint64_t in_window = 0;   // delivered before the send window closed
    uint64_t out_of_order = 0;
    uint64_t stalls = 0;      // closed-loop windows reset after a second without acks
    uint64_t rss_peak_kib = 0;
    uint64_t rss_end_kib = 0;
    double server_cpu_s = -1;
    double loadgen_cpu_s = 0;
    int disconnected = 0;
    int slow_dropped = 0;
    histogram latency;
};

class engine {
public:
    explicit engine(const options& o);
    ~engine();
    int run();

private:
    // connections (engine_io.cpp)
    void start_connect(int i);
    // --ws-port2: odd-numbered clients on the second node of a cluster.
    uint16_t ws_port_of(int i) const { return opt_.ws_port2 && i % 2 ? opt_.ws_port2 : opt_.ws_port; }
    void on_event(int i, uint32_t events);
    void on_connected(int i);
    void on_tls_handshake(int i);
    void on_transport_ready(int i);
    ssize_t read_some(client& c, char* buf, size_t n);
    ssize_t write_some(client& c, const char* p, size_t n);
    void on_readable(int i);
    void on_handshake(int i);
    void on_open(int i);
    void on_closed(int i, const char* why);
    void consume(int i, const char* p, size_t n);
    size_t parse_ws(int i, const char* p, size_t n);
    size_t parse_text(int i, const char* p, size_t n);
    void on_marker(int i, const marker& m);
    void answer_pings(int i, const char* p, const char* end);
    void count_presence(int i, const char* p, size_t n, bool json);
    void queue_bytes(int i, const char* p, size_t n);
    void queue_ws(int i, uint8_t opcode, const char* p, size_t n);
    void flush(int i);
    void flush_dirty();
    void set_polling_out(int i, bool on);
    void pump(int64_t wake_ns);

    // phases (engine_stages.cpp)
    bool connect_all();
    void join_and_settle();
    void run_stage(double rate, bool warmup = false);
    bool send_message(int s, int64_t sent_ns);
    void drain(stage_stats& st);
    void probe_slow_clients();
    void quiesce();
    void coalesce();
    void hold();
    void run_stages();
    void set_slow_reading(int i, bool on);
    bool stage_clean(const stage_stats& st) const;
    void report_stage(size_t idx);
    void report_error(const std::string& what);

    options opt_;
    SSL_CTX* tls_ctx_ = nullptr;
    marker_codec codec_;
    int epfd_ = -1;
    int64_t now_ns_ = 0;
    std::vector<client> clients_;
    std::vector<sender_state> senders_;
    std::vector<stage_stats> stages_;
    std::vector<uint64_t> last_seq_;  // [receiver * senders + sender]
    std::vector<int> dirty_;
    std::string say_prefix_;
    std::string send_buf_;
    int readers_ = 0;                 // open clients that read (slow ones excluded)
    int connecting_ = 0;
    int ready_ = 0;
    int failed_ = 0;
    int disconnected_ = 0;
    int slow_dropped_ = 0;
    bool holding_ = true;
    int hold_stage_ = -1;             // --run-id: the stage counting markers while holding
    bool probing_slow_ = false;  // slow clients read (and discard) to see whether the server closed them
    std::string first_error_;
    int64_t last_read_ns_ = 0;
    uint64_t bytes_in_ = 0;
    uint32_t mask_state_ = 0x9e3779b9;
    uint64_t rss_start_kib_ = 0;
    uint64_t rss_connected_kib_ = 0;
    double connect_s_ = 0;
    double settle_s_ = 0;
    int64_t connect_t0_ = 0;
    int join_expected_ = 0;               // explicit joins sent, answered by `history`
    int join_answers_ = 0;
    bool joining_ = false;
    double joined_s_ = 0;                 // connect start to the last byte of the join storm
    std::vector<uint64_t> presence_bytes_;  // per client, before the first stage: joined/left/presence
};

int64_t monotonic_ns();

constexpr uint32_t stdin_id = 0xffffffffu;  // epoll tag of standard input (--hold)

}  // namespace loadgen

// Command-line settings of the load generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace loadgen {

// irc: an IRC client (NICK/USER, auto-joined to the lobby), receiving only.
enum class transport { ws, tcp, irc };

// chatgate: JSON `say` frames, TCP text lines, auto-joined lobby.
// plain: reference broadcast servers; the frame is the payload, no join.
enum class server_kind { chatgate, plain };

struct options {
    std::string host = "127.0.0.1";
    uint16_t ws_port = 0;
    uint16_t tcp_port = 0;
    uint16_t irc_port = 0;
    uint16_t ws_port2 = 0;          // cluster runs: odd-numbered WebSocket clients connect here
    bool tls = false;               // WebSocket clients speak TLS (wss), certificate not checked
    std::string path = "/ws";
    server_kind kind = server_kind::chatgate;
    std::string room = "lobby";

    int clients = 100;              // reading clients, senders included
    transport proto = transport::ws;
    int senders = 5;                // the first `senders` clients send
    transport sender_proto = transport::ws;
    int slow = 0;                   // extra clients that never read

    std::vector<double> rates{0};   // msgs/s over all senders, one stage each; 0 = closed loop
    bool sweep = false;             // ramp from rates[0] until a stage is dirty, then bisect
    double sweep_factor = 2.0;
    int sweep_refine = 2;
    double sweep_max = 1e6;
    double p99_limit_ms = 100;

    double duration_s = 5;          // per stage
    double warmup_s = 0;            // first, an unscored stage at the first rate
    int window = 64;                // closed loop: messages in flight per sender
    int size = 64;                  // payload text bytes (64 at least: the marker)
    int pid = 0;                    // server process for RSS and CPU
    int connect_concurrency = 128;  // connects + handshakes in progress at once
    int settle_ms = 300;            // quiet time that ends the connect phase
    int connect_timeout_s = 300;    // connect phase, and settling, give up after this
    int drain_ms = 3000;            // longest wait for stragglers after a stage
    size_t max_outbuf = 256 * 1024; // per sender; open loop skips a send above it
    bool hold = false;              // after the last stage, print {"type":"done"} and keep the
                                    // clients (reading) until standard input closes
    std::string label;
    // Crowd runs (several load generator processes, one server): each binds
    // its own 127.0.0.x so no process runs out of ephemeral ports, and they
    // share one marker run id so a message sent by another process counts.
    std::string source;             // local address to bind before connecting ("" = any)
    uint32_t run_id = 0;            // 0 = random per process
};

bool parse_options(int argc, char** argv, options& out, std::string& error);
const char* usage();

}  // namespace loadgen

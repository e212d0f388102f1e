#include "options.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace loadgen {

namespace {

bool parse_transport(const std::string& v, transport& out) {
    if (v == "ws") out = transport::ws;
    else if (v == "tcp") out = transport::tcp;
    else if (v == "irc") out = transport::irc;
    else return false;
    return true;
}

std::vector<double> parse_list(const std::string& v) {
    std::vector<double> out;
    std::stringstream ss(v);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::atof(item.c_str()));
    return out;
}

}  // namespace

const char* usage() {
    return "usage: loadgen --ws-port P [--tcp-port P] [options]\n"
           "  --host ADDR            server address (127.0.0.1)\n"
           "  --path PATH            WebSocket path (/ws)\n"
           "  --ws-port2 P           a second server's WebSocket port (a cluster node): clients\n"
           "                         1, 3, 5... (senders included) connect there, the others\n"
           "                         to --ws-port\n"
           "  --server chatgate|plain  plain = reference broadcast server (chatgate)\n"
           "  --room NAME            chatgate room to join and talk in (lobby)\n"
           "  --clients N            reading clients, senders included (100)\n"
           "  --irc-port P           chatgate IRC port (receivers with --proto irc)\n"
           "  --tls                  WebSocket clients use TLS (wss; the certificate is not checked)\n"
           "  --proto ws|tcp|irc     transport of the receiving clients (ws)\n"
           "  --senders K            how many of the clients send (5)\n"
           "  --sender-proto ws|tcp  transport of the senders (ws)\n"
           "  --slow M               extra clients that never read (0)\n"
           "  --rate R[,R2,...]      total msgs/s per stage; 0 = closed loop (0)\n"
           "  --sweep                ramp from --rate by --sweep-factor until a stage\n"
           "                         has loss or p99 over --p99-limit-ms, then bisect\n"
           "  --sweep-factor F (2) --sweep-refine N (2) --sweep-max R (1e6)\n"
           "  --p99-limit-ms MS      clean-stage latency limit (100)\n"
           "  --duration S           seconds per stage (5)\n"
           "  --warmup S             first an unscored stage of S seconds at the first rate (0)\n"
           "  --window W             closed loop: in-flight messages per sender (64)\n"
           "  --size B               payload text bytes (64)\n"
           "  --pid PID              server process: RSS and CPU from /proc\n"
           "  --connect-concurrency C (128) --settle-ms MS (300) --drain-ms MS (3000)\n"
           "  --connect-timeout S    give up connecting (or settling) after S seconds (300)\n"
           "  --max-outbuf BYTES     per-sender unsent cap (262144)\n"
           "  --label TEXT           copied into every JSON line\n"
           "  --source ADDR          bind this local address before connecting (crowd runs)\n"
           "  --run-id HEX           marker run id shared with other processes; with --hold,\n"
           "                         markers of that run arriving while holding are reported\n"
           "                         on one {\"type\":\"hold\"} line when stdin closes\n"
           "  --hold                 after the last stage print {\"type\":\"done\"} and keep every\n"
           "                         client connected (and reading) until stdin closes\n";
}

bool parse_options(int argc, char** argv, options& o, std::string& error) {
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (k == "--sweep") { o.sweep = true; continue; }
        if (k == "--hold") { o.hold = true; continue; }
        if (k == "--tls") { o.tls = true; continue; }
        if (k == "--help" || k == "-h") { error = "help"; return false; }
        if (i + 1 >= argc) { error = "missing value for " + k; return false; }
        std::string v = argv[++i];
        if (k == "--host") o.host = v;
        else if (k == "--ws-port" || k == "--port") o.ws_port = static_cast<uint16_t>(std::atoi(v.c_str()));
        else if (k == "--tcp-port") o.tcp_port = static_cast<uint16_t>(std::atoi(v.c_str()));
        else if (k == "--ws-port2") o.ws_port2 = static_cast<uint16_t>(std::atoi(v.c_str()));
        else if (k == "--irc-port") o.irc_port = static_cast<uint16_t>(std::atoi(v.c_str()));
        else if (k == "--path") o.path = v;
        else if (k == "--server") {
            if (v == "chatgate") o.kind = server_kind::chatgate;
            else if (v == "plain") o.kind = server_kind::plain;
            else { error = "bad --server " + v; return false; }
        }
        else if (k == "--room") o.room = v;
        else if (k == "--clients") o.clients = std::atoi(v.c_str());
        else if (k == "--proto") { if (!parse_transport(v, o.proto)) { error = "bad --proto"; return false; } }
        else if (k == "--senders") o.senders = std::atoi(v.c_str());
        else if (k == "--sender-proto") { if (!parse_transport(v, o.sender_proto)) { error = "bad --sender-proto"; return false; } }
        else if (k == "--slow") o.slow = std::atoi(v.c_str());
        else if (k == "--rate") o.rates = parse_list(v);
        else if (k == "--sweep-factor") o.sweep_factor = std::atof(v.c_str());
        else if (k == "--sweep-refine") o.sweep_refine = std::atoi(v.c_str());
        else if (k == "--sweep-max") o.sweep_max = std::atof(v.c_str());
        else if (k == "--p99-limit-ms") o.p99_limit_ms = std::atof(v.c_str());
        else if (k == "--duration") o.duration_s = std::atof(v.c_str());
        else if (k == "--warmup") o.warmup_s = std::atof(v.c_str());
        else if (k == "--window") o.window = std::atoi(v.c_str());
        else if (k == "--size") o.size = std::atoi(v.c_str());
        else if (k == "--pid") o.pid = std::atoi(v.c_str());
        else if (k == "--connect-concurrency") o.connect_concurrency = std::atoi(v.c_str());
        else if (k == "--settle-ms") o.settle_ms = std::atoi(v.c_str());
        else if (k == "--connect-timeout") o.connect_timeout_s = std::atoi(v.c_str());
        else if (k == "--drain-ms") o.drain_ms = std::atoi(v.c_str());
        else if (k == "--max-outbuf") o.max_outbuf = static_cast<size_t>(std::atoll(v.c_str()));
        else if (k == "--label") o.label = v;
        else if (k == "--source") o.source = v;
        else if (k == "--run-id") o.run_id = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 16));
        else { error = "unknown option " + k; return false; }
    }
    if (o.ws_port == 0 && (o.proto == transport::ws || o.sender_proto == transport::ws)) {
        error = "--ws-port is required"; return false;
    }
    if (o.tcp_port == 0 && (o.proto == transport::tcp || (o.senders > 0 && o.sender_proto == transport::tcp))) {
        error = "--tcp-port is required for TCP clients"; return false;
    }
    if (o.sender_proto == transport::irc) { error = "IRC clients only receive (--sender-proto ws|tcp)"; return false; }
    if (o.irc_port == 0 && o.proto == transport::irc) { error = "--irc-port is required for IRC clients"; return false; }
    if (o.kind == server_kind::plain && (o.proto != transport::ws || o.sender_proto != transport::ws)) {
        error = "plain servers speak WebSocket only"; return false;
    }
    if (o.senders > o.clients) { error = "--senders exceeds --clients"; return false; }
    if (o.rates.empty()) o.rates.push_back(0);
    if (o.sweep && o.rates[0] <= 0) { error = "--sweep needs a starting --rate above 0"; return false; }
    if (o.size < 64) o.size = 64;  // room for the marker
    if (o.window < 1) o.window = 1;
    return true;
}

}  // namespace loadgen

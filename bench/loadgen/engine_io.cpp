// Sockets: connect, WebSocket handshake, reading frames and lines, writing.
#include "engine.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <ctime>

#include <openssl/err.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace loadgen {

namespace {

// One read buffer for every socket: a client keeps only its unparsed tail.
char g_read_buf[256 * 1024];

}  // namespace

int64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void engine::start_connect(int i) {
    client& c = clients_[i];
    c.state = client::phase::connecting;
    ++connecting_;
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
        on_closed(i, "socket failed");
        return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (c.slow) {
        // A stuck client with small buffers: the server's queue for it fills quickly.
        int small = 16 * 1024;
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    if (!opt_.source.empty()) {
        // Each 127.0.0.x has its own ephemeral port range toward the server.
        sockaddr_in local{};
        local.sin_family = AF_INET;
        inet_pton(AF_INET, opt_.source.c_str(), &local.sin_addr);
        if (::bind(c.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) {
            on_closed(i, "bind to --source failed");
            return;
        }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(c.proto == transport::ws ? ws_port_of(i) : c.proto == transport::irc ? opt_.irc_port : opt_.tcp_port);
    inet_pton(AF_INET, opt_.host.c_str(), &addr.sin_addr);
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLRDHUP;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev);
    c.polling_out = true;
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 && errno != EINPROGRESS)
        on_closed(i, "connect failed");
}

void engine::on_event(int i, uint32_t events) {
    client& c = clients_[i];
    if (c.state == client::phase::connecting) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(i);
        return;
    }
    if (c.state == client::phase::tls_handshaking) {
        on_tls_handshake(i);
        return;
    }
    if (c.state == client::phase::closed) return;
    if (events & EPOLLOUT) flush(i);
    if (c.slow && c.state == client::phase::open && !probing_slow_) {
        // Not reading: only the peer closing matters.
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_closed(i, "dropped");
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(i);
}

void engine::on_connected(int i) {
    client& c = clients_[i];
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
        on_closed(i, std::strerror(err));
        return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.polling_out = false;
    if (c.proto == transport::ws && tls_ctx_) {
        c.ssl = SSL_new(tls_ctx_);
        SSL_set_fd(c.ssl, c.fd);
        SSL_set_connect_state(c.ssl);
        c.state = client::phase::tls_handshaking;
        on_tls_handshake(i);
        return;
    }
    on_transport_ready(i);
}

void engine::on_tls_handshake(int i) {
    client& c = clients_[i];
    int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
        set_polling_out(i, false);
        on_transport_ready(i);
        return;
    }
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ) set_polling_out(i, false);
    else if (e == SSL_ERROR_WANT_WRITE) set_polling_out(i, true);
    else on_closed(i, "tls handshake failed");
}

void engine::on_transport_ready(int i) {
    client& c = clients_[i];
    if (c.proto == transport::ws) {
        c.state = client::phase::handshaking;
        std::string req = ws_upgrade_request(opt_.host, ws_port_of(i), opt_.path);
        queue_bytes(i, req.data(), req.size());
        flush(i);
    } else if (c.proto == transport::irc) {
        // Registration; 001 tells us it was accepted, and chatgate puts
        // every IRC client in the lobby.
        c.state = client::phase::greeting;
        std::string nick = "lg" + std::to_string(i);
        std::string reg = "NICK " + nick + "\r\nUSER " + nick + " 0 * :loadgen\r\n";
        if (opt_.room != "lobby") reg += "JOIN #" + opt_.room + "\r\n";
        queue_bytes(i, reg.data(), reg.size());
        flush(i);
    } else {
        // chatgate greets a text client first; that line tells us it was accepted.
        c.state = client::phase::greeting;
    }
}

// >0 bytes read, 0 closed, -1 nothing now, -2 error (errno or TLS).
ssize_t engine::read_some(client& c, char* buf, size_t n) {
    if (!c.ssl) {
        ssize_t r = ::read(c.fd, buf, n);
        if (r < 0) return errno == EAGAIN || errno == EINTR ? -1 : -2;
        return r;
    }
    // One record per SSL_read: take what is there while a whole record fits.
    size_t got = 0;
    while (n - got >= 17 * 1024) {
        int r = SSL_read(c.ssl, buf + got, static_cast<int>(std::min<size_t>(n - got, 1 << 30)));
        if (r > 0) {
            got += static_cast<size_t>(r);
            continue;
        }
        int e = SSL_get_error(c.ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE || got > 0) break;
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) return 0;
        errno = EPROTO;
        return -2;
    }
    return got > 0 ? static_cast<ssize_t>(got) : -1;
}

ssize_t engine::write_some(client& c, const char* p, size_t n) {
    if (!c.ssl) {
        ssize_t r = ::send(c.fd, p, n, MSG_NOSIGNAL);
        if (r < 0) return errno == EAGAIN || errno == EINTR ? -1 : -2;
        return r;
    }
    int r = SSL_write(c.ssl, p, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (r > 0) return r;
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) return -1;
    errno = EPROTO;
    return -2;
}

void engine::on_readable(int i) {
    client& c = clients_[i];
    ssize_t n = read_some(c, g_read_buf, sizeof g_read_buf);
    if (n == 0) {
        on_closed(i, "closed by server");
        return;
    }
    if (n == -2) on_closed(i, std::strerror(errno));
    if (n < 0) return;
    // Stamp each read: events late in a large batch must not look faster.
    now_ns_ = monotonic_ns();
    bytes_in_ += static_cast<uint64_t>(n);
    last_read_ns_ = now_ns_;
    if (c.slow && c.state == client::phase::open) return;  // probing: only the close matters
    if (c.state == client::phase::handshaking) {
        c.in.append(g_read_buf, static_cast<size_t>(n));
        on_handshake(i);
        return;
    }
    consume(i, g_read_buf, static_cast<size_t>(n));
    // TLS may hold decrypted bytes the socket will not signal again.
    if (c.ssl && c.state != client::phase::closed && SSL_has_pending(c.ssl)) on_readable(i);
}

void engine::on_handshake(int i) {
    client& c = clients_[i];
    size_t end = c.in.find("\r\n\r\n");
    if (end == std::string::npos) {
        if (c.in.size() > 16384) on_closed(i, "oversized handshake response");
        return;
    }
    if (c.in.compare(0, 12, "HTTP/1.1 101") != 0) {
        std::string status = c.in.substr(0, c.in.find("\r\n"));
        on_closed(i, ("handshake refused: " + status).c_str());
        return;
    }
    std::string rest = c.in.substr(end + 4);
    c.in.clear();
    on_open(i);
    if (!rest.empty() && !c.slow) consume(i, rest.data(), rest.size());
}

void engine::on_open(int i) {
    client& c = clients_[i];
    c.state = client::phase::open;
    --connecting_;
    ++ready_;
    if (c.slow) {
        c.in.clear();
        epoll_event ev{};
        ev.events = EPOLLRDHUP | (c.polling_out ? EPOLLOUT : 0u);
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
    } else {
        ++readers_;
    }
}

void engine::on_closed(int i, const char* why) {
    client& c = clients_[i];
    if (c.state == client::phase::closed) return;
    bool was_open = c.state == client::phase::open;
    if (!was_open) {
        --connecting_;
        ++failed_;
        if (first_error_.empty()) first_error_ = why;
    } else if (c.slow) {
        ++slow_dropped_;
    } else {
        --readers_;
        ++disconnected_;
        if (first_error_.empty()) first_error_ = why;
    }
    if (c.ssl) SSL_free(c.ssl);
    c.ssl = nullptr;
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    c.state = client::phase::closed;
    c.in.clear();
    c.out.clear();
}

void engine::consume(int i, const char* p, size_t n) {
    client& c = clients_[i];
    auto parse = [&](const char* q, size_t len) {
        return c.proto == transport::ws ? parse_ws(i, q, len) : parse_text(i, q, len);
    };
    if (c.in.empty()) {
        size_t used = parse(p, n);
        if (used < n && c.state != client::phase::closed) c.in.assign(p + used, n - used);
        return;
    }
    c.in.append(p, n);
    size_t used = parse(c.in.data(), c.in.size());
    if (c.state != client::phase::closed) c.in.erase(0, used);
}

size_t engine::parse_ws(int i, const char* p, size_t n) {
    size_t off = 0;
    ws_frame f;
    while (peek_ws_frame(p + off, n - off, f)) {
        const char* payload = p + off + f.header;
        size_t len = static_cast<size_t>(f.length);
        switch (f.opcode) {
        case op_text:
        case op_binary:
        case op_continuation: {
            if (stages_.empty()) count_presence(i, payload, len, true);
            marker m;
            const char* q = payload;
            while ((q = codec_.find(q, payload + len, m)) != nullptr) on_marker(i, m);
            break;
        }
        case op_ping:
            queue_ws(i, op_pong, payload, len);
            break;
        case op_close:
            on_closed(i, "close frame from server");
            return n;
        default:
            break;
        }
        off += f.header + len;
    }
    return off;
}

size_t engine::parse_text(int i, const char* p, size_t n) {
    const char* last = static_cast<const char*>(memrchr(p, '\n', n));
    if (!last) return n > (1u << 20) ? n : 0;  // bound a line that never ends
    client& c = clients_[i];
    const char* end = last + 1;
    if (c.state == client::phase::greeting && c.proto == transport::irc) {
        const size_t len = static_cast<size_t>(end - p);
        if (!memmem(p, len, " 001 ", 5)) {
            if (memmem(p, len, "ERROR ", 6) || memmem(p, len, " 433 ", 5) || memmem(p, len, " 432 ", 5)) {
                on_closed(i, "refused by server (irc)");
                return n;
            }
            return len;  // before the welcome: nothing to count yet
        }
        on_open(i);
    } else if (c.state == client::phase::greeting) {
        if (p[0] == '!') {
            on_closed(i, "refused by server (text)");
            return n;
        }
        on_open(i);
    }
    if (c.proto == transport::irc) answer_pings(i, p, end);
    if (stages_.empty()) count_presence(i, p, static_cast<size_t>(end - p), false);
    marker m;
    const char* q = p;
    while ((q = codec_.find(q, end, m)) != nullptr) on_marker(i, m);
    return static_cast<size_t>(end - p);
}

// chatgate pings an IRC client silent for --irc-ping-s: any line answers.
void engine::answer_pings(int i, const char* p, const char* end) {
    for (const char* q = p; (q = static_cast<const char*>(memmem(q, static_cast<size_t>(end - q), "PING ", 5))) != nullptr; q += 5) {
        if (q == p || q[-1] == '\n') {
            queue_bytes(i, "PONG chatgate\r\n", 15);
            return;
        }
    }
}

// What joining costs a client in presence traffic (joined, left, presence
// events; text `* NICK joined/left #ROOM` lines), counted while clients
// connect and join only: the stages are not slowed down by it.
void engine::count_presence(int i, const char* p, size_t n, bool json) {
    static const std::string kinds[] = {"\"type\":\"joined\"", "\"type\":\"left\"", "\"type\":\"presence\""};
    if (json) {
        std::string_view frame(p, n);
        if (joining_ && frame.find("\"type\":\"history\"") != std::string_view::npos &&
            ++join_answers_ == join_expected_)
            joined_s_ = static_cast<double>(now_ns_ - connect_t0_) / 1e9;
        for (const std::string& k : kinds)
            if (frame.find(k) != std::string_view::npos) {
                presence_bytes_[static_cast<size_t>(i)] += n;
                return;
            }
        return;
    }
    std::string_view text(p, n);
    size_t at = 0;
    while (at < text.size()) {
        size_t nl = text.find('\n', at);
        if (nl == std::string_view::npos) nl = text.size() - 1;
        std::string_view line = text.substr(at, nl + 1 - at);
        if (line.substr(0, 2) == "* " &&
            (line.find(" joined #") != std::string_view::npos || line.find(" left #") != std::string_view::npos))
            presence_bytes_[static_cast<size_t>(i)] += line.size();
        at = nl + 1;
    }
}

void engine::on_marker(int i, const marker& m) {
    if (hold_stage_ >= 0) {
        // Sent by another process (--run-id): only arrival and latency count.
        stage_stats& st = stages_[static_cast<size_t>(hold_stage_)];
        ++st.delivered;
        int64_t lat = now_ns_ - static_cast<int64_t>(m.sent_ns);
        st.latency.record(lat > 0 ? static_cast<uint64_t>(lat) : 0);
        return;
    }
    if (m.stage >= stages_.size() || m.sender >= senders_.size()) return;
    stage_stats& st = stages_[m.stage];
    ++st.delivered;
    if (now_ns_ <= st.end_ns) ++st.in_window;
    st.last_delivery_ns = now_ns_;
    int64_t lat = now_ns_ - static_cast<int64_t>(m.sent_ns);
    st.latency.record(lat > 0 ? static_cast<uint64_t>(lat) : 0);
    uint64_t& last = last_seq_[static_cast<size_t>(i) * senders_.size() + m.sender];
    if (m.seq <= last) ++st.out_of_order;
    else last = m.seq;
    sender_state& s = senders_[m.sender];
    if (s.observer == i && s.inflight > 0) {
        --s.inflight;
        s.last_ack_ns = now_ns_;
    }
}

void engine::queue_bytes(int i, const char* p, size_t n) {
    client& c = clients_[i];
    c.out.append(p, n);
    if (!c.dirty) {
        c.dirty = true;
        dirty_.push_back(i);
    }
}

void engine::queue_ws(int i, uint8_t opcode, const char* p, size_t n) {
    mask_state_ ^= mask_state_ << 13;
    mask_state_ ^= mask_state_ >> 17;
    mask_state_ ^= mask_state_ << 5;
    send_buf_.clear();
    append_ws_frame(send_buf_, opcode, p, n, mask_state_);
    queue_bytes(i, send_buf_.data(), send_buf_.size());
}

void engine::flush(int i) {
    client& c = clients_[i];
    if (c.fd < 0 || c.state == client::phase::connecting) return;
    size_t off = 0;
    while (off < c.out.size()) {
        ssize_t n = write_some(c, c.out.data() + off, c.out.size() - off);
        if (n == -1) break;
        if (n < 0) {
            on_closed(i, std::strerror(errno));
            return;
        }
        off += static_cast<size_t>(n);
    }
    c.out.erase(0, off);
    set_polling_out(i, !c.out.empty());
}

void engine::flush_dirty() {
    for (int i : dirty_) {
        clients_[i].dirty = false;
        flush(i);
    }
    dirty_.clear();
}

void engine::set_polling_out(int i, bool on) {
    client& c = clients_[i];
    if (c.polling_out == on || c.fd < 0) return;
    c.polling_out = on;
    epoll_event ev{};
    ev.events = (c.slow && c.state == client::phase::open && !probing_slow_ ? 0u : static_cast<uint32_t>(EPOLLIN)) | EPOLLRDHUP |
                (on ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void engine::set_slow_reading(int i, bool on) {
    client& c = clients_[i];
    if (c.fd < 0) return;
    epoll_event ev{};
    ev.events = (on ? static_cast<uint32_t>(EPOLLIN) : 0u) | EPOLLRDHUP | (c.polling_out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
}

void engine::pump(int64_t wake_ns) {
    epoll_event events[1024];
    now_ns_ = monotonic_ns();
    int64_t wait = wake_ns - now_ns_;
    if (wait < 0) wait = 0;
    timespec ts{static_cast<time_t>(wait / 1000000000), static_cast<long>(wait % 1000000000)};
    int n = epoll_pwait2(epfd_, events, 1024, &ts, nullptr);
    now_ns_ = monotonic_ns();
    for (int k = 0; k < n; ++k) {
        if (events[k].data.u32 == stdin_id) {
            char buf[256];
            if (::read(0, buf, sizeof buf) <= 0) holding_ = false;
            continue;
        }
        on_event(static_cast<int>(events[k].data.u32), events[k].events);
    }
}

}  // namespace loadgen

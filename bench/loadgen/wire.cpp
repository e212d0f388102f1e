#include "wire.hpp"

#include <cstdio>

namespace loadgen {

std::string ws_upgrade_request(const std::string& host, uint16_t port, const std::string& path) {
    std::string r;
    r.reserve(256);
    r += "GET " + path + " HTTP/1.1\r\n";
    r += "Host: " + host + ":" + std::to_string(port) + "\r\n";
    r += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    r += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    r += "Sec-WebSocket-Version: 13\r\n\r\n";
    return r;
}

void append_ws_frame(std::string& out, uint8_t opcode, const char* payload, size_t len, uint32_t mask) {
    char hdr[14];
    size_t h = 0;
    hdr[h++] = static_cast<char>(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = static_cast<char>(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = static_cast<char>(0x80 | 126);
        hdr[h++] = static_cast<char>(len >> 8);
        hdr[h++] = static_cast<char>(len & 0xff);
    } else {
        hdr[h++] = static_cast<char>(0x80 | 127);
        for (int i = 7; i >= 0; --i) hdr[h++] = static_cast<char>((static_cast<uint64_t>(len) >> (8 * i)) & 0xff);
    }
    char key[4];
    std::memcpy(key, &mask, 4);
    std::memcpy(hdr + h, key, 4);
    h += 4;
    size_t start = out.size();
    out.append(hdr, h);
    out.append(payload, len);
    char* p = &out[start + h];
    for (size_t i = 0; i < len; ++i) p[i] ^= key[i & 3];
}

marker_codec::marker_codec(uint32_t run_id) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "~%08x.", run_id);
    std::memcpy(needle_, buf, sizeof needle_);
}

size_t marker_codec::write(char* out, size_t size, const marker& m) const {
    int n = std::snprintf(out, size + 1, "%.10s%u.%u.%llu.%llu~", needle_, m.stage, m.sender,
                          static_cast<unsigned long long>(m.seq),
                          static_cast<unsigned long long>(m.sent_ns));
    size_t len = n < 0 ? 0 : static_cast<size_t>(n);
    if (len > size) len = size;
    std::memset(out + len, 'x', size - len);
    return size;
}

namespace {

bool parse_number(const char*& p, const char* end, char stop, uint64_t& v) {
    v = 0;
    const char* start = p;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + static_cast<uint64_t>(*p++ - '0');
    if (p == start || p >= end || *p != stop) return false;
    ++p;
    return true;
}

}  // namespace

const char* marker_codec::find(const char* p, const char* end, marker& m) const {
    while (p < end) {
        const void* hit = memmem(p, static_cast<size_t>(end - p), needle_, sizeof needle_);
        if (!hit) return nullptr;
        const char* q = static_cast<const char*>(hit) + sizeof needle_;
        uint64_t stage, sender, seq, t;
        if (parse_number(q, end, '.', stage) && parse_number(q, end, '.', sender) &&
            parse_number(q, end, '.', seq) && parse_number(q, end, '~', t)) {
            m.stage = static_cast<uint32_t>(stage);
            m.sender = static_cast<uint32_t>(sender);
            m.seq = seq;
            m.sent_ns = t;
            return q;
        }
        p = static_cast<const char*>(hit) + 1;
    }
    return nullptr;
}

}  // namespace loadgen

// What goes on the wire: the WebSocket client handshake, masked client frames,
// server frame headers, and the marker that carries a send timestamp in the text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace loadgen {

std::string ws_upgrade_request(const std::string& host, uint16_t port, const std::string& path);

// Appends one masked client frame (FIN set) holding `payload`.
void append_ws_frame(std::string& out, uint8_t opcode, const char* payload, size_t len, uint32_t mask);

enum ws_opcode : uint8_t { op_continuation = 0, op_text = 1, op_binary = 2, op_close = 8, op_ping = 9, op_pong = 10 };

struct ws_frame {
    uint8_t opcode = 0;
    size_t header = 0;   // bytes before the payload
    uint64_t length = 0; // payload bytes
};

// Reads one server frame header from [p, p+n). Returns false when more bytes are needed.
inline bool peek_ws_frame(const char* p, size_t n, ws_frame& f) {
    if (n < 2) return false;
    auto b0 = static_cast<uint8_t>(p[0]);
    auto b1 = static_cast<uint8_t>(p[1]);
    f.opcode = b0 & 0x0f;
    f.length = b1 & 0x7f;
    f.header = 2;
    if (f.length == 126) {
        if (n < 4) return false;
        f.length = (static_cast<uint64_t>(static_cast<uint8_t>(p[2])) << 8) | static_cast<uint8_t>(p[3]);
        f.header = 4;
    } else if (f.length == 127) {
        if (n < 10) return false;
        f.length = 0;
        for (int i = 2; i < 10; ++i) f.length = (f.length << 8) | static_cast<uint8_t>(p[i]);
        f.header = 10;
    }
    if (b1 & 0x80) f.header += 4;  // servers must not mask, but be tolerant
    return n >= f.header + f.length;
}

// The marker: "~RUN.STAGE.SENDER.SEQ.T~", RUN 8 hex digits unique to this
// process, T the CLOCK_MONOTONIC send time in ns. Only markers of this run
// count, so history replayed from earlier runs is ignored.
struct marker {
    uint32_t stage = 0;
    uint32_t sender = 0;
    uint64_t seq = 0;
    uint64_t sent_ns = 0;
};

class marker_codec {
public:
    explicit marker_codec(uint32_t run_id);

    // Writes the marker padded with 'x' to exactly `size` bytes; returns the length.
    size_t write(char* out, size_t size, const marker& m) const;

    // Finds the next marker of this run in [p, end); returns a pointer past it or nullptr.
    const char* find(const char* p, const char* end, marker& m) const;

private:
    char needle_[10];  // "~" + 8 hex + "."
};

}  // namespace loadgen

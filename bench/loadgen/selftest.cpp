// Checks of the pure parts of the load generator: frames, markers, histogram.
// Run: build-bench/tools/loadgen_selftest (prints "N passed, N failed").
#include <cstdio>
#include <string>

#include "histogram.hpp"
#include "wire.hpp"

namespace {

int passed = 0;
int failed = 0;

void check(bool ok, const char* what) {
    if (ok) {
        ++passed;
    } else {
        ++failed;
        std::printf("FAIL: %s\n", what);
    }
}

std::string server_frame(const std::string& payload) {
    std::string f;
    f += static_cast<char>(0x81);
    if (payload.size() < 126) {
        f += static_cast<char>(payload.size());
    } else if (payload.size() < 65536) {
        f += static_cast<char>(126);
        f += static_cast<char>(payload.size() >> 8);
        f += static_cast<char>(payload.size() & 0xff);
    } else {
        f += static_cast<char>(127);
        for (int i = 7; i >= 0; --i) f += static_cast<char>((payload.size() >> (8 * i)) & 0xff);
    }
    return f + payload;
}

void test_frames() {
    using namespace loadgen;
    for (size_t len : {5u, 125u, 126u, 300u, 65535u, 65536u, 70000u}) {
        std::string f = server_frame(std::string(len, 'a'));
        ws_frame fr;
        check(peek_ws_frame(f.data(), f.size(), fr) && fr.length == len && fr.opcode == op_text &&
                  fr.header + fr.length == f.size(),
              "server frame header of every length form");
        check(!peek_ws_frame(f.data(), f.size() - 1, fr), "a frame one byte short is incomplete");
        check(!peek_ws_frame(f.data(), 1, fr), "one byte is incomplete");
    }
    std::string out;
    std::string payload = "{\"type\":\"say\",\"room\":\"lobby\",\"text\":\"hi\"}";
    append_ws_frame(out, op_text, payload.data(), payload.size(), 0x12345678u);
    check(static_cast<unsigned char>(out[0]) == 0x81 && (static_cast<unsigned char>(out[1]) & 0x80),
          "client frames are final text frames with the mask bit");
    std::string unmasked = out.substr(6);
    for (size_t i = 0; i < unmasked.size(); ++i) unmasked[i] ^= out[2 + (i & 3)];
    check(unmasked == payload, "masking round-trips");
    out.clear();
    std::string big(1000, 'b');
    append_ws_frame(out, op_text, big.data(), big.size(), 1);
    check((static_cast<unsigned char>(out[1]) & 0x7f) == 126 && out.size() == 4 + 4 + big.size(),
          "16-bit length for 1000 bytes");
}

void test_markers() {
    using namespace loadgen;
    marker_codec codec(0xabcdef01u), other(0x12345678u);
    marker m{3, 4, 123456, 987654321012345ull};
    char text[64];
    check(codec.write(text, sizeof text, m) == sizeof text && text[63] == 'x', "marker padded to the size");
    std::string line = "[lobby] guest-1: " + std::string(text, sizeof text) + "\n";
    marker got;
    const char* end = line.data() + line.size();
    const char* p = codec.find(line.data(), end, got);
    check(p && got.stage == 3 && got.sender == 4 && got.seq == 123456 && got.sent_ns == 987654321012345ull,
          "marker found and parsed in a text line");
    check(codec.find(p, end, got) == nullptr, "one marker per message");
    marker seen;
    check(other.find(line.data(), end, seen) == nullptr, "markers of another run are ignored");
    std::string broken = "~abcdef01.1.2.x~ then " + std::string(text, sizeof text);
    check(codec.find(broken.data(), broken.data() + broken.size(), got) && got.seq == 123456,
          "a broken marker is skipped, the next one found");
    std::string history = "{\"type\":\"history\",\"messages\":[{\"text\":\"" + std::string(text, 30) + "\"}]}";
    check(codec.find(history.data(), history.data() + history.size(), got) == nullptr,
          "a truncated marker does not count");
}

void test_histogram() {
    loadgen::histogram h;
    for (uint64_t v = 1; v <= 100000; ++v) h.record(v * 1000);  // 1 us .. 100 ms
    auto near = [](uint64_t got, double want) { return got > want * 0.98 && got < want * 1.02; };
    check(h.count() == 100000 && h.max() == 100000000, "count and max are exact");
    check(near(h.quantile(0.5), 50e6), "p50 within 2%");
    check(near(h.quantile(0.99), 99e6), "p99 within 2%");
    check(near(h.quantile(0.999), 99.9e6), "p999 within 2%");
    loadgen::histogram small;
    for (uint64_t v = 0; v < 100; ++v) small.record(v);
    check(small.quantile(0.5) == 49 || small.quantile(0.5) == 50, "small values are exact");
    loadgen::histogram empty;
    check(empty.quantile(0.99) == 0, "an empty histogram says 0");
}

}  // namespace

int main() {
    test_frames();
    test_markers();
    test_histogram();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

// A minimal writer for the one-line JSON reports (flat keys, nested objects).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace loadgen {

class json_writer {
public:
    json_writer() { out_ = "{"; }

    json_writer& key(const char* k) {
        if (!first_) out_ += ',';
        first_ = false;
        out_ += '"';
        out_ += k;
        out_ += "\":";
        return *this;
    }
    json_writer& field(const char* k, const std::string& v) {
        key(k);
        out_ += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out_ += '\\';
            if (static_cast<unsigned char>(c) >= 0x20) out_ += c;
        }
        out_ += '"';
        return *this;
    }
    json_writer& field(const char* k, const char* v) { return field(k, std::string(v)); }
    json_writer& field(const char* k, bool v) { key(k); out_ += v ? "true" : "false"; return *this; }
    json_writer& field(const char* k, uint64_t v) { key(k); out_ += std::to_string(v); return *this; }
    json_writer& field(const char* k, int64_t v) { key(k); out_ += std::to_string(v); return *this; }
    json_writer& field(const char* k, int v) { return field(k, static_cast<int64_t>(v)); }
    json_writer& field(const char* k, double v) {
        key(k);
        if (!std::isfinite(v)) { out_ += "null"; return *this; }
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", v);
        out_ += buf;
        return *this;
    }
    json_writer& begin(const char* k) { key(k); out_ += '{'; first_ = true; return *this; }
    json_writer& end() { out_ += '}'; first_ = false; return *this; }

    std::string str() const { return out_ + "}"; }

private:
    std::string out_;
    bool first_ = true;
};

}  // namespace loadgen

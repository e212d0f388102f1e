// Log-linear latency histogram: 64 sub-buckets per power of two (~1.6% error),
// constant-time record, no allocation after construction.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace loadgen {

class histogram {
public:
    histogram() : counts_(bucket_count, 0) {}

    void record(uint64_t v) {
        ++counts_[index_of(v)];
        ++total_;
        sum_ += v;
        max_ = std::max(max_, v);
    }

    uint64_t count() const { return total_; }
    uint64_t max() const { return max_; }
    double mean() const { return total_ ? static_cast<double>(sum_) / total_ : 0; }

    // Value at quantile q (0..1): the middle of the bucket that holds it.
    uint64_t quantile(double q) const {
        if (total_ == 0) return 0;
        uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
        uint64_t seen = 0;
        for (size_t i = 0; i < counts_.size(); ++i) {
            seen += counts_[i];
            if (seen >= rank) return std::min(max_, middle_of(i));
        }
        return max_;
    }

private:
    static constexpr int sub_bits = 6;
    static constexpr size_t linear = 2u << sub_bits;  // values below are exact
    static constexpr size_t bucket_count = linear + 58 * (1u << sub_bits);

    static size_t index_of(uint64_t v) {
        if (v < linear) return static_cast<size_t>(v);
        int msb = 63 - __builtin_clzll(v);
        int shift = msb - sub_bits;
        size_t sub = static_cast<size_t>(v >> shift) - (1u << sub_bits);
        return linear + static_cast<size_t>(shift - 1) * (1u << sub_bits) + sub;
    }

    static uint64_t middle_of(size_t i) {
        if (i < linear) return i;
        size_t k = i - linear;
        int shift = static_cast<int>(k >> sub_bits) + 1;
        uint64_t low = (static_cast<uint64_t>((k & ((1u << sub_bits) - 1)) + (1u << sub_bits))) << shift;
        return low + (uint64_t{1} << shift) / 2;
    }

    std::vector<uint64_t> counts_;
    uint64_t total_ = 0;
    uint64_t sum_ = 0;
    uint64_t max_ = 0;
};

}  // namespace loadgen

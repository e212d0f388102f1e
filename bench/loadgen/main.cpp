// loadgen: opens N WebSocket or TCP chat clients, lets K of them send, and
// reports delivery rate, loss, latency and the server's memory and CPU as JSON lines.
#include <csignal>
#include <cstdio>
#include <string>

#include <sys/resource.h>

#include "engine.hpp"
#include "options.hpp"

int main(int argc, char** argv) {
    loadgen::options opt;
    std::string error;
    if (!loadgen::parse_options(argc, argv, opt, error)) {
        if (error != "help") std::fprintf(stderr, "loadgen: %s\n", error.c_str());
        std::fputs(loadgen::usage(), stderr);
        return error == "help" ? 0 : 64;
    }
    std::signal(SIGPIPE, SIG_IGN);
    // Thousands of sockets: take the whole file descriptor allowance.
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    loadgen::engine e(opt);
    return e.run();
}

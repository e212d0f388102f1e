// Reference broadcast server: websocketpp done the obvious way.
// One asio thread, a std::set of connection_hdl, and every text frame sent
// to every connection with server.send(hdl, payload, opcode).
// The one addition to the textbook version is TCP_NODELAY (see on open).
// Usage: wspp-broadcast [PORT]   (PORT 0 picks a free port; prints "listening PORT")
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <set>

using server_t = websocketpp::server<websocketpp::config::asio>;
using websocketpp::connection_hdl;

class broadcast_server {
public:
    broadcast_server() {
        server_.clear_access_channels(websocketpp::log::alevel::all);
        server_.clear_error_channels(websocketpp::log::elevel::all);
        server_.init_asio();
        server_.set_reuse_addr(true);
        server_.set_open_handler([this](connection_hdl h) {
            // TCP_NODELAY, as Node's ws and chatgate set it: otherwise Nagle's
            // algorithm, not the server, decides the latency of small frames.
            websocketpp::lib::error_code ec;
            server_.get_con_from_hdl(h)->get_raw_socket().set_option(
                websocketpp::lib::asio::ip::tcp::no_delay(true), ec);
            conns_.insert(h);
        });
        server_.set_close_handler([this](connection_hdl h) { conns_.erase(h); });
        server_.set_fail_handler([this](connection_hdl h) { conns_.erase(h); });
        server_.set_message_handler([this](connection_hdl, server_t::message_ptr msg) {
            for (auto h : conns_) {
                websocketpp::lib::error_code ec;
                server_.send(h, msg->get_payload(), msg->get_opcode(), ec);
            }
        });
    }

    void run(uint16_t port) {
        websocketpp::lib::error_code ec;
        server_.listen(websocketpp::lib::asio::ip::tcp::endpoint(
                           websocketpp::lib::asio::ip::make_address("127.0.0.1"), port),
                       ec);
        if (ec) {
            std::cerr << "listen: " << ec.message() << "\n";
            std::exit(1);
        }
        server_.start_accept();
        auto ep = server_.get_local_endpoint(ec);
        std::cout << "listening " << ep.port() << std::endl;
        websocketpp::lib::asio::signal_set signals(server_.get_io_service(), SIGINT, SIGTERM);
        signals.async_wait([this](const std::error_code&, int) {
            websocketpp::lib::error_code ignored;
            server_.stop_listening(ignored);
            server_.stop();
        });
        server_.run();
    }

private:
    server_t server_;
    std::set<connection_hdl, std::owner_less<connection_hdl>> conns_;
};

int main(int argc, char** argv) {
    uint16_t port = argc > 1 ? static_cast<uint16_t>(std::atoi(argv[1])) : 0;
    broadcast_server s;
    s.run(port);
    return 0;
}

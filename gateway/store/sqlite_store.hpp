// The SQLite store (--db, SPEC 10): history, ids and topics on disk.
#pragma once

#include <memory>

#include <asio/io_context.hpp>

#include "gateway/ops/config.hpp"
#include "gateway/store/message_store.hpp"
#include "gateway/ops/metrics.hpp"

namespace chatgate {

// Opens (or creates) cfg.db; throws startup_error when it cannot be opened,
// is corrupt, has a newer schema or is in use by another chatgate.
std::unique_ptr<message_store> make_sqlite_store(asio::io_context& io, const config& cfg, metrics& m);

}  // namespace chatgate

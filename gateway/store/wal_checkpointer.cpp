#include "gateway/store/wal_checkpointer.hpp"

#include <sqlite3.h>

#include <spdlog/spdlog.h>

namespace chatgate {

std::string wal_checkpointer::start(const std::string& path, sqlite::connection& writer) {
  if (!sqlite3_threadsafe()) return "this SQLite library is built without threads";
  if (db_.open(path) != SQLITE_OK) return db_.message();
  // A connection learns the file is in WAL mode when it first reads it;
  // until then a checkpoint does nothing.
  int rc = SQLITE_OK;
  if (db_.scalar("PRAGMA journal_mode", &rc) != "wal") return rc == SQLITE_OK ? "not in WAL mode" : db_.message();
  if (writer.exec("PRAGMA wal_autocheckpoint=0") != SQLITE_OK) return writer.message();
  sqlite3_wal_hook(writer.handle(), &wal_checkpointer::on_commit, this);
  thread_ = std::thread([this] { run(); });
  return {};
}

void wal_checkpointer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  db_.close();
}

// On the loop thread, inside the writer's COMMIT: a flag and a wake-up.
int wal_checkpointer::on_commit(void* self, sqlite3* writer, const char* schema, int wal_pages) {
  auto* c = static_cast<wal_checkpointer*>(self);
  if (wal_pages < pages) return SQLITE_OK;
  // The WAL starts over only when a checkpoint has copied all of it, and
  // under steady writes the thread's checkpoints never do: commits land
  // while they fsync. Past max_pages the writer copies the rest itself
  // (most of it already copied and synced by the thread; BUSY while the
  // thread is at it, then the next commit tries again).
  if (wal_pages >= max_pages) sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(c->mutex_);
    if (c->wanted_) return SQLITE_OK;
    c->wanted_ = true;
  }
  c->wake_.notify_one();
  return SQLITE_OK;
}

void wal_checkpointer::run() {
  bool failing = false;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return wanted_ || stopping_; });
      if (stopping_) return;
      wanted_ = false;
    }
    // PASSIVE: copies what no reader still needs and never blocks the
    // writer, which restarts the WAL from its start once all of it is copied.
    int log = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_.handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    // BUSY: the writer is checkpointing itself (max_pages); the next commit
    // wakes this thread again.
    if (rc == SQLITE_BUSY) continue;
    if (rc != SQLITE_OK && !failing)
      spdlog::warn("--db: checkpoint failed: {} (the WAL grows until one works)", sqlite3_errstr(rc));
    if (rc == SQLITE_OK && failing) spdlog::info("--db: checkpoints work again");
    failing = rc != SQLITE_OK;
  }
}

}  // namespace chatgate

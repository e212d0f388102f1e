// Checkpoints the SQLite WAL on a thread of its own, so that the event loop
// never waits for them: a checkpoint copies the WAL into the database file
// and fsync()s both, tens of milliseconds on a disk (measured: 35-60 ms per
// fsync on the bench machine, two per checkpoint), where a commit into the
// WAL takes tens of microseconds.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/store/sqlite.hpp"

namespace chatgate {

class wal_checkpointer {
 public:
  // The writer's connection stops checkpointing by itself and tells this one
  // after each commit how long the WAL is. Returns SQLite's error message, or
  // "" when it runs.
  std::string start(const std::string& path, sqlite::connection& writer);
  // Joins the thread; safe to call twice. The writer's close then does the
  // last checkpoint itself.
  void stop();
  ~wal_checkpointer() { stop(); }

  // Checkpoint after this many pages of WAL (SQLite's own default); past
  // max_pages the writer checkpoints too, so the WAL stays bounded.
  static constexpr int pages = 1000;
  static constexpr int max_pages = 4 * pages;

 private:
  static int on_commit(void* self, struct sqlite3* writer, const char* schema, int wal_pages);
  void run();

  sqlite::connection db_;  // used by the thread only
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
};

}  // namespace chatgate

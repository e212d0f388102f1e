// The SQLite store. Design (measured, see docs/architecture.md):
//
// - One writing connection, on the event loop thread, WAL with
//   synchronous=NORMAL: a commit is a write() into the WAL, no fsync, so it
//   survives a crash of the process (SPEC 10 asks no more) and takes tens of
//   microseconds. Checkpoints (the fsyncs) run on wal_checkpointer's thread.
// - Group commit: publish() queues the message and posts one flush per loop
//   turn; the flush writes every queued message in one transaction, and only
//   after COMMIT returns are the callbacks (the fan-out) run, in order. So a
//   message is on disk before anyone sees it, and a failed transaction
//   refuses its whole batch and gives its ids back.
// - The in-memory history_cache serves joins; `since` older than it reads
//   the disk. Retention deletes at most prune_batch rows per room per commit.
// - The file is flock()ed for the life of the process: a second chatgate on
//   the same file is a start-up error, never two writers.
#include "gateway/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <unordered_map>

#include <asio/post.hpp>
#include <spdlog/spdlog.h>

#include "gateway/hub/history_cache.hpp"
#include "gateway/store/sqlite.hpp"
#include "gateway/store/wal_checkpointer.hpp"
#include "gateway/ops/startup_error.hpp"

namespace chatgate {
namespace {

constexpr int schema_version = 3;
constexpr std::uint64_t prune_batch = 256;
constexpr int insert_columns = 6;
constexpr int insert_many_rows = 16;

// A message's key is its room's number and its id in one integer (schema 3):
// `no << id_bits | id`. Each room's messages are one contiguous key range.
constexpr int id_bits = 40;
constexpr std::uint64_t max_id = (std::uint64_t{1} << id_bits) - 1;   // ~1.1e12 per room
constexpr std::int64_t max_room_no = (std::int64_t{1} << (63 - id_bits)) - 1;  // ~8.4M rooms

// Each entry takes the schema from version i to i + 1.
const char* const migrations[] = {
    R"sql(
CREATE TABLE rooms (
  name     TEXT PRIMARY KEY,
  last_id  INTEGER NOT NULL,          -- ids continue from here after a restart
  topic    TEXT,
  topic_by TEXT,
  topic_ts INTEGER
) WITHOUT ROWID;
CREATE TABLE messages (
  room TEXT    NOT NULL,
  id   INTEGER NOT NULL,
  ts   INTEGER NOT NULL,              -- ms since the Unix epoch
  nick TEXT    NOT NULL,
  via  TEXT    NOT NULL,              -- ws, tcp, udp, echo, irc
  me   INTEGER NOT NULL DEFAULT 0,
  text TEXT    NOT NULL,
  PRIMARY KEY (room, id)
) WITHOUT ROWID;                      -- one b-tree, not a table and an index
)sql",
    // 2: nicks a token proved (SPEC 13), reserved across restarts.
    R"sql(
CREATE TABLE reserved_nicks (
  folded TEXT    PRIMARY KEY,         -- lower case: nicks compare case-insensitively
  nick   TEXT    NOT NULL,            -- as the token's sub spelled it first
  since  INTEGER NOT NULL             -- ms since the Unix epoch
) WITHOUT ROWID;
)sql",
    // 3: messages in a rowid table keyed by (room number, id) packed into
    // one integer. The WITHOUT ROWID table of schema 1 put every row of more
    // than ~1000 bytes on an overflow page of its own: 4.7 KB on disk for a
    // 1 KB message. A rowid table keeps rows up to ~4 KB in its leaves.
    R"sql(
INSERT OR IGNORE INTO rooms(name,last_id) SELECT room, max(id) FROM messages GROUP BY room;
ALTER TABLE rooms ADD COLUMN no INTEGER;  -- the room's number in message keys
UPDATE rooms SET no = n.rn FROM (SELECT name, row_number() OVER (ORDER BY name) AS rn FROM rooms) AS n
 WHERE rooms.name = n.name;
CREATE TABLE messages_3 (
  key  INTEGER PRIMARY KEY,           -- rooms.no << 40 | id
  ts   INTEGER NOT NULL,              -- ms since the Unix epoch
  nick TEXT    NOT NULL,
  via  TEXT    NOT NULL,              -- ws, tcp, udp, echo, irc
  me   INTEGER NOT NULL DEFAULT 0,
  text TEXT    NOT NULL
);
INSERT INTO messages_3 SELECT (r.no << 40) | m.id, m.ts, m.nick, m.via, m.me, m.text
  FROM messages AS m JOIN rooms AS r ON r.name = m.room ORDER BY 1;
DROP TABLE messages;
ALTER TABLE messages_3 RENAME TO messages;
)sql",
};
static_assert(sizeof(migrations) / sizeof(*migrations) == schema_version);

protocol::via via_from(const std::string& s) {
  for (std::size_t i = 0; i < protocol::via_count; ++i)
    if (s == protocol::to_string(static_cast<protocol::via>(i))) return static_cast<protocol::via>(i);
  return protocol::via::ws;
}

using clock = std::chrono::steady_clock;

class sqlite_store final : public message_store {
 public:
  sqlite_store(asio::io_context& io, const config& cfg, metrics& m)
      : io_(io), cfg_(cfg), metrics_(m), cache_(cfg.history, cfg.history_bytes) {
    open();
    metrics_.db = true;
    update_size(true);
  }

  ~sqlite_store() override { close(); }

  void publish(protocol::chat_message msg, published then) override {
    room_state* r = room(msg.room);
    if (!r || !numbered(msg.room, *r) || r->last_id >= max_id) {
      if (r && r->last_id >= max_id) spdlog::error("--db {}: room {} has used every id", cfg_.db, msg.room);
      return then(store_errc::unavailable, nullptr);
    }
    msg.id = ++r->last_id;
    ++r->pending;
    if (pending_.empty() && topics_pending_.empty()) first_pending_ = clock::now();
    const std::int64_t k = key(r->no, msg.id);
    pending_.push_back({std::make_shared<const protocol::chat_message>(std::move(msg)), k, std::move(then)});
    schedule_flush();
  }

  void history(const std::string& room, std::uint64_t after, std::size_t max_bytes,
               history_loaded then) override {
    if (cache_.answers(room, after)) return then({}, cache_.since(room, after));
    std::vector<protocol::stored_ptr> out;
    if (!read(room, after, max_bytes, out)) return then(store_errc::unavailable, {});
    if (after == 0) cache_.fill(room, out);
    metrics_.history_bytes = cache_.bytes();
    then({}, std::move(out));
  }

  void forget(const std::string& room) override {
    cache_.forget(room);
    topics_.erase(room);
    auto it = rooms_.find(room);
    if (it != rooms_.end() && it->second.pending == 0) rooms_.erase(it);
  }

  void set_topic(const std::string& name, topic_record topic, done then) override {
    room_state* r = room(name);
    if (!r || !numbered(name, *r)) return then(store_errc::unavailable);
    if (pending_.empty() && topics_pending_.empty()) first_pending_ = clock::now();
    topics_pending_.push_back({name, r->no, std::move(topic), std::move(then)});
    schedule_flush();
  }

  void topic(const std::string& room, topic_loaded then) override {
    auto it = topics_.find(room);
    if (it != topics_.end()) return then({}, it->second);
    get_topic_.bind(1, room);
    std::optional<topic_record> t;
    int rc = get_topic_.step();
    if (rc == SQLITE_ROW && !get_topic_.is_null(0))
      t = topic_record{get_topic_.text(0), get_topic_.text(1), get_topic_.int64(2)};
    get_topic_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return then(store_errc::unavailable, std::nullopt);
    topics_[room] = t;
    then({}, std::move(t));
  }

  std::size_t history_bytes() const override { return cache_.bytes(); }

  // Read once at start, on the loop thread before any client.
  void reserved_nicks(nicks_loaded then) override {
    std::vector<std::string> nicks;
    int rc;
    while ((rc = all_reserved_.step()) == SQLITE_ROW) nicks.push_back(all_reserved_.text(0));
    all_reserved_.reset();
    if (rc != SQLITE_DONE) return read_failed(rc), then(store_errc::unavailable, std::move(nicks));
    then({}, std::move(nicks));
  }

  // Written with the next batch; if that commit fails the nick stays
  // reserved in memory only (logged with the batch).
  void reserve_nick(const std::string& nick) override {
    if (pending_.empty() && topics_pending_.empty() && nicks_pending_.empty()) first_pending_ = clock::now();
    nicks_pending_.push_back(nick);
    schedule_flush();
  }

  void close() override {
    if (!db_.handle()) return;
    checkpointer_.stop();
    // Whatever the loop did not get to is committed, nobody is told.
    flush(/*tell=*/false);
    for (sqlite::statement* st : {&insert_, &insert_many_, &upsert_room_, &load_room_, &last_room_no_, &oldest_,
                                  &prune_, &newest_, &after_, &get_topic_, &set_topic_, &all_reserved_,
                                  &add_reserved_})
      *st = sqlite::statement();
    db_.close();
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }

 private:
  struct room_state {
    std::int64_t no = 0;          // its number in message keys (0: none yet, nothing on disk)
    std::uint64_t last_id = 0;    // given out, pending included
    std::uint64_t committed = 0;  // on disk
    std::uint64_t oldest = 0;     // oldest id on disk (0: none)
    std::size_t pending = 0;
  };
  struct pending_message {
    protocol::stored_ptr msg;
    std::int64_t key;
    published then;
  };
  struct pending_topic {
    std::string room;
    std::int64_t no;
    topic_record topic;
    done then;
  };

  // One line (SPEC 9), whatever SQLite's message holds.
  [[noreturn]] void fail(std::string why) const {
    for (char& c : why)
      if (c == '\n' || c == '\r') c = ' ';
    throw startup_error("--db " + cfg_.db + ": " + why);
  }

  void open() {
    // An exclusive lock on the file itself, held until exit: one chatgate
    // per database. flock() is apart from SQLite's own fcntl() locks.
    lock_fd_ = ::open(cfg_.db.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) fail(std::string("cannot open: ") + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
      fail(errno == EWOULDBLOCK ? "in use by another chatgate (locked)"
                                : std::string("cannot lock: ") + std::strerror(errno));
    if (db_.open(cfg_.db) != SQLITE_OK) fail("cannot open: " + db_.message());
    int rc = SQLITE_OK;
    const std::string check = db_.scalar("PRAGMA quick_check(1)", &rc);
    if (rc != SQLITE_OK) fail("cannot read: " + db_.message());
    if (check != "ok") fail("corrupt (quick_check: " + check + ")");
    // Schema first: a new file then gets its first page in the main file.
    // (SQLite deletes the WAL of a zero-length database when it opens it, so
    // a file created in WAL mode and killed before its first checkpoint
    // would lose everything.)
    migrate();
    if (db_.scalar("PRAGMA journal_mode=WAL", &rc) != "wal" || rc != SQLITE_OK)
      fail("cannot use WAL: " + db_.message());
    if (db_.exec("PRAGMA synchronous=NORMAL") != SQLITE_OK) fail("cannot set synchronous: " + db_.message());
    if (const std::string why = checkpointer_.start(cfg_.db, db_); !why.empty())
      fail("cannot open the checkpoint connection: " + why);
    prepare();
  }

  void migrate() {
    int rc = SQLITE_OK;
    const int version = std::stoi("0" + db_.scalar("PRAGMA user_version", &rc));
    if (rc != SQLITE_OK) fail("cannot read the schema version: " + db_.message());
    if (version > schema_version)
      fail("schema version " + std::to_string(version) + " is newer than this chatgate's (" +
           std::to_string(schema_version) + ")");
    if (version == 0 && db_.scalar("SELECT count(*) FROM sqlite_schema") != "0")
      fail("not a chatgate database (it has tables but no schema version)");
    for (int v = version; v < schema_version; ++v) {
      const std::string sql = std::string("BEGIN IMMEDIATE;") + migrations[v] +
                              "PRAGMA user_version=" + std::to_string(v + 1) + ";COMMIT;";
      if (db_.exec(sql) != SQLITE_OK) {
        const std::string why = db_.message();
        db_.exec("ROLLBACK");
        fail("cannot migrate the schema to version " + std::to_string(v + 1) + ": " + why);
      }
      if (version > 0) spdlog::info("--db {}: schema migrated to version {}", cfg_.db, v + 1);
    }
  }

  void prepare() {
    auto p = [&](sqlite::statement& s, const char* sql) {
      s = db_.prepare(sql);
      if (!s.ok()) fail(std::string("cannot prepare a statement: ") + db_.message());
    };
    // A room's keys run from key(no, 1) to key(no, max_id): ?1 < key <= ?2
    // below (the last room number's keys end at INT64_MAX).
    p(insert_, "INSERT INTO messages(key,ts,nick,via,me,text) VALUES(?,?,?,?,?,?)");
    std::string many = "INSERT INTO messages(key,ts,nick,via,me,text) VALUES(?,?,?,?,?,?)";
    for (int i = 1; i < insert_many_rows; ++i) many += ",(?,?,?,?,?,?)";
    p(insert_many_, many.c_str());
    p(upsert_room_,
      "INSERT INTO rooms(name,last_id,no) VALUES(?1,?2,?3) ON CONFLICT(name) DO UPDATE SET last_id=excluded.last_id");
    p(load_room_, "SELECT last_id,no FROM rooms WHERE name=?1");
    p(last_room_no_, "SELECT max(no) FROM rooms");
    p(oldest_, "SELECT min(key) FROM messages WHERE key>?1 AND key<=?2");
    p(prune_, "DELETE FROM messages WHERE key>?1 AND key<?2");
    p(newest_, "SELECT key,ts,nick,via,me,text FROM messages WHERE key>?1 AND key<=?2 ORDER BY key DESC LIMIT ?3");
    p(after_, "SELECT key,ts,nick,via,me,text FROM messages WHERE key>?1 AND key<=?2 ORDER BY key");
    p(get_topic_, "SELECT topic,topic_by,topic_ts FROM rooms WHERE name=?1");
    p(set_topic_,
      "INSERT INTO rooms(name,last_id,no,topic,topic_by,topic_ts) VALUES(?1,0,?5,?2,?3,?4) "
      "ON CONFLICT(name) DO UPDATE SET topic=excluded.topic,topic_by=excluded.topic_by,topic_ts=excluded.topic_ts");
    p(all_reserved_, "SELECT nick FROM reserved_nicks");
    p(add_reserved_, "INSERT OR IGNORE INTO reserved_nicks(folded,nick,since) VALUES(lower(?1),?1,?2)");
    int rc = last_room_no_.step();
    if (rc == SQLITE_ROW) last_no_ = last_room_no_.int64(0);
    last_room_no_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("cannot read: " + db_.message());
  }

  static std::int64_t key(std::int64_t no, std::uint64_t id) {
    return std::int64_t((std::uint64_t(no) << id_bits) | id);
  }

  // The room's counters, read from disk the first time (or after forget).
  room_state* room(const std::string& name) {
    auto it = rooms_.find(name);
    if (it != rooms_.end()) return &it->second;
    room_state r;
    load_room_.bind(1, name);
    int rc = load_room_.step();
    if (rc == SQLITE_ROW) {
      r.last_id = r.committed = std::uint64_t(load_room_.int64(0));
      r.no = load_room_.int64(1);
    }
    load_room_.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return read_failed(rc), nullptr;
    if (r.no != 0) {
      oldest_.bind(1, key(r.no, 0)).bind(2, key(r.no, max_id));
      rc = oldest_.step();
      if (rc == SQLITE_ROW && !oldest_.is_null(0)) r.oldest = std::uint64_t(oldest_.int64(0)) & max_id;
      oldest_.reset();
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return read_failed(rc), nullptr;
    }
    return &rooms_.emplace(name, r).first->second;
  }

  // A room gets its number when it first has something to keep, so that
  // joins of rooms nobody writes to use none.
  bool numbered(const std::string& name, room_state& r) {
    if (r.no != 0) return true;
    if (last_no_ >= max_room_no) {
      spdlog::error("--db {}: no room number left for room {} (at most {} rooms)", cfg_.db, name, max_room_no);
      return false;
    }
    r.no = ++last_no_;
    return true;
  }

  void read_failed(int rc) {
    spdlog::error("--db {}: read failed: {}", cfg_.db, sqlite3_errstr(rc));
  }

  bool read(const std::string& room, std::uint64_t after, std::size_t max_bytes,
            std::vector<protocol::stored_ptr>& out) {
    room_state* r = this->room(room);
    if (!r) return false;
    // Nothing on disk, or past every id a room can have (`since` comes from
    // the client; a bigger one would reach into another room's keys).
    if (r->no == 0 || after >= max_id) return true;
    sqlite::statement& s = after == 0 ? newest_ : after_;
    s.bind(1, key(r->no, after)).bind(2, key(r->no, max_id));
    if (after == 0) s.bind(3, std::int64_t(cfg_.history));
    std::size_t bytes = 0;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
      auto m = std::make_shared<protocol::chat_message>();
      m->room = room;
      m->id = std::uint64_t(s.int64(0)) & max_id;
      m->ts = s.int64(1);
      m->from = s.text(2);
      m->source = via_from(s.text(3));
      m->me = s.int64(4) != 0;
      m->text = s.text(5);
      bytes += m->text.size() + 128;
      out.push_back(std::move(m));
      if (after != 0 && bytes >= max_bytes) break;
    }
    s.reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return read_failed(rc), false;
    if (after == 0) std::reverse(out.begin(), out.end());
    return true;
  }

  void schedule_flush() {
    if (flush_scheduled_) return;
    flush_scheduled_ = true;
    // After the reads already queued in this loop turn: they join the batch.
    asio::post(io_, [this] { flush(/*tell=*/true); });
  }

  void flush(bool tell) {
    flush_scheduled_ = false;
    if (pending_.empty() && topics_pending_.empty() && nicks_pending_.empty()) return;
    std::vector<pending_message> batch;
    batch.swap(pending_);
    std::vector<pending_topic> topics;
    topics.swap(topics_pending_);
    std::vector<std::string> nicks;
    nicks.swap(nicks_pending_);
    const int rc = write(batch, topics, nicks);
    if (rc != SQLITE_OK) {
      if (!db_failing_)
        spdlog::error("--db {}: write failed: {} ({} messages refused as unavailable)", cfg_.db,
                      sqlite3_errstr(rc), batch.size());
      if (!nicks.empty())
        spdlog::error("--db {}: {} reserved nick(s) kept in memory only", cfg_.db, nicks.size());
      db_failing_ = true;
      if (!sqlite3_get_autocommit(db_.handle())) db_.exec("ROLLBACK");
      for (auto& p : batch) {
        room_state& r = rooms_[p.msg->room];
        r.last_id = r.committed;  // the batch's ids are given back
        r.pending = 0;
      }
      if (!tell) return;
      for (auto& p : batch) p.then(store_errc::unavailable, nullptr);
      for (auto& t : topics) t.then(store_errc::unavailable);
      return;
    }
    if (db_failing_) spdlog::info("--db {}: writing again", cfg_.db);
    db_failing_ = false;
    metrics_.observe_commit(std::chrono::duration<double>(clock::now() - first_pending_).count());
    metrics_.persisted += batch.size();
    update_size(false);
    for (auto& t : topics) topics_[t.room] = t.topic;
    for (auto& p : batch) {
      room_state& r = rooms_[p.msg->room];
      r.committed = std::max(r.committed, p.msg->id);
      if (r.oldest == 0) r.oldest = p.msg->id;
      --r.pending;
      cache_.append(p.msg->room, p.msg);
    }
    metrics_.history_bytes = cache_.bytes();
    if (!tell) return;
    for (auto& t : topics) t.then({});
    for (auto& p : batch) p.then({}, std::make_shared<const protocol::sealed_message>(std::move(p.msg)));
  }

  // One transaction: the messages, each room's last id, a little pruning,
  // topics and reserved nicks.
  int write(const std::vector<pending_message>& batch, const std::vector<pending_topic>& topics,
            const std::vector<std::string>& nicks) {
    int rc = db_.exec("BEGIN IMMEDIATE");
    if (rc != SQLITE_OK) return rc;
    // insert_many_ rows at a time while they last (one statement's overhead
    // for all of them), then one at a time.
    std::size_t i = 0;
    for (; i + insert_many_rows <= batch.size(); i += insert_many_rows) {
      for (int j = 0; j < insert_many_rows; ++j) bind_row(insert_many_, j * insert_columns, batch[i + j]);
      if ((rc = insert_many_.run()) != SQLITE_DONE) return rc;
    }
    for (; i < batch.size(); ++i)
      if ((rc = bind_row(insert_, 0, batch[i]).run()) != SQLITE_DONE) return rc;
    // Each room once, with its highest id in the batch.
    std::unordered_map<std::string, std::uint64_t> last;
    for (const auto& p : batch) last[p.msg->room] = p.msg->id;
    for (const auto& [name, id] : last) {
      rc = upsert_room_.bind(1, name).bind(2, std::int64_t(id)).bind(3, rooms_[name].no).run();
      if (rc != SQLITE_DONE) return rc;
      if ((rc = prune(name, id)) != SQLITE_DONE) return rc;
    }
    for (const auto& t : topics) {
      rc = set_topic_.bind(1, t.room).bind(2, t.topic.text).bind(3, t.topic.by).bind(4, t.topic.ts).bind(5, t.no).run();
      if (rc != SQLITE_DONE) return rc;
    }
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
    for (const auto& n : nicks) {
      // Nicks are ASCII, so SQLite's lower() folds them as fold_nick does.
      rc = add_reserved_.bind(1, n).bind(2, now_ms).run();
      if (rc != SQLITE_DONE) return rc;
    }
    rc = db_.exec("COMMIT");
    if (rc != SQLITE_OK) return rc;
    // Only now is the pruning real.
    for (auto& [name, id] : last) {
      room_state& r = rooms_[name];
      if (r.oldest && id >= cfg_.db_retain && r.oldest <= id - cfg_.db_retain)
        r.oldest = std::min(r.oldest + prune_batch, id - cfg_.db_retain + 1);
    }
    return SQLITE_OK;
  }

  // The message outlives the step: SQLite need not copy the text.
  static sqlite::statement& bind_row(sqlite::statement& s, int first, const pending_message& p) {
    const protocol::chat_message& m = *p.msg;
    return s.bind(first + 1, p.key).bind(first + 2, m.ts).bind_static(first + 3, m.from)
        .bind_static(first + 4, protocol::to_string(m.source)).bind(first + 5, std::int64_t(m.me))
        .bind_static(first + 6, m.text);
  }

  // Ids on disk are contiguous, so keeping the last db_retain is a range
  // delete; at most prune_batch rows a commit so it never stalls the loop.
  int prune(const std::string& name, std::uint64_t last) {
    const room_state& r = rooms_[name];
    if (r.oldest == 0 || last < cfg_.db_retain || r.oldest > last - cfg_.db_retain) return SQLITE_DONE;
    const std::uint64_t below = std::min(r.oldest + prune_batch, last - cfg_.db_retain + 1);
    return prune_.bind(1, key(r.no, 0)).bind(2, key(r.no, below)).run();
  }

  void update_size(bool now) {
    const auto t = clock::now();
    if (!now && t - size_checked_ < std::chrono::seconds(1)) return;
    size_checked_ = t;
    std::uint64_t total = 0;
    struct stat st {};
    if (::stat(cfg_.db.c_str(), &st) == 0) total += std::uint64_t(st.st_size);
    if (::stat((cfg_.db + "-wal").c_str(), &st) == 0) total += std::uint64_t(st.st_size);
    metrics_.db_bytes = total;
  }

  asio::io_context& io_;
  const config& cfg_;
  metrics& metrics_;
  history_cache cache_;
  int lock_fd_ = -1;
  sqlite::connection db_;
  wal_checkpointer checkpointer_;  // after db_: its thread stops first
  sqlite::statement insert_, insert_many_, upsert_room_, load_room_, last_room_no_, oldest_, prune_, newest_, after_, get_topic_,
      set_topic_, all_reserved_, add_reserved_;
  std::int64_t last_no_ = 0;  // the highest room number given
  std::unordered_map<std::string, room_state> rooms_;
  std::unordered_map<std::string, std::optional<topic_record>> topics_;
  std::vector<pending_message> pending_;
  std::vector<pending_topic> topics_pending_;
  std::vector<std::string> nicks_pending_;
  clock::time_point first_pending_{};
  clock::time_point size_checked_{};
  bool flush_scheduled_ = false;
  bool db_failing_ = false;
};

}  // namespace

std::unique_ptr<message_store> make_sqlite_store(asio::io_context& io, const config& cfg, metrics& m) {
  return std::make_unique<sqlite_store>(io, cfg, m);
}

}  // namespace chatgate

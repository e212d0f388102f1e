#include "gateway/store/sqlite.hpp"

#include <sqlite3.h>

namespace chatgate::sqlite {

statement::statement(sqlite3* db, std::string_view sql) : db_(db) {
  if (sqlite3_prepare_v3(db, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
    stmt_ = nullptr;
}

statement::~statement() { sqlite3_finalize(stmt_); }

statement& statement::operator=(statement&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(stmt_);
    stmt_ = o.stmt_;
    db_ = o.db_;
    o.stmt_ = nullptr;
  }
  return *this;
}

statement& statement::bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

statement& statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}

statement& statement::bind_static(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_STATIC);
  return *this;
}

statement& statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

int statement::step() { return sqlite3_step(stmt_); }

int statement::run() {
  int rc;
  while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
  }
  reset();
  return rc;
}

void statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, std::size_t(sqlite3_column_bytes(stmt_, col))) : std::string();
}

bool statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

connection::~connection() { close(); }

int connection::open(const std::string& path) {
  close();
  const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) sqlite3_extended_result_codes(db_, 1);
  return rc;
}

void connection::close() {
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

int connection::exec(const std::string& sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr); }

std::string connection::scalar(const std::string& sql, int* rc) {
  statement s(db_, sql);
  if (!s.ok()) {
    if (rc) *rc = sqlite3_errcode(db_);
    return {};
  }
  int r = s.step();
  std::string out = r == SQLITE_ROW ? s.text(0) : std::string();
  if (rc) *rc = (r == SQLITE_ROW || r == SQLITE_DONE) ? SQLITE_OK : r;
  return out;
}

std::string connection::message() const { return db_ ? sqlite3_errmsg(db_) : "out of memory"; }

}  // namespace chatgate::sqlite

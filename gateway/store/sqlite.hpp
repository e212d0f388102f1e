// A thin RAII wrapper of the SQLite C API: a connection and its prepared
// statements. Errors are values (the running server turns a failed write
// into `unavailable`); only open() is meant for start-up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace chatgate::sqlite {

class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql);  // check ok() or error()
  ~statement();
  statement(statement&& o) noexcept : stmt_(o.stmt_), db_(o.db_) { o.stmt_ = nullptr; }
  statement& operator=(statement&& o) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  bool ok() const { return stmt_ != nullptr; }

  statement& bind(int i, std::int64_t v);
  statement& bind(int i, std::string_view v);
  // `v` must stay valid until the statement is reset.
  statement& bind_static(int i, std::string_view v);
  statement& bind_null(int i);

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step();
  // Runs to completion and resets; SQLITE_DONE on success.
  int run();
  void reset();

  std::int64_t int64(int col) const;
  std::string text(int col) const;
  bool is_null(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

class connection {
 public:
  connection() = default;
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // SQLITE_OK or the error; message() says why.
  int open(const std::string& path);
  void close();

  // Runs one or more statements without results; SQLITE_OK or the error.
  int exec(const std::string& sql);
  // The first column of the first row of `sql`, as text ("" if none).
  std::string scalar(const std::string& sql, int* rc = nullptr);

  statement prepare(std::string_view sql) { return statement(db_, sql); }
  std::string message() const;
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace chatgate::sqlite

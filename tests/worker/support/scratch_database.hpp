#pragma once
#include <cstdio>
#include <pqxx/pqxx>
#include <string>

#include "support/test_env.hpp"

/// Test isolation for the worker: the interface contract fixes schema `clerk`, so
/// each test that touches tables gets a database of its own, created from
/// DATABASE_URL (the private cluster of ops/test) and dropped afterwards.
namespace worker_test {

/// `url` with its database name replaced by `name` (URL or keyword form).
inline std::string with_database(const std::string& url, const std::string& name) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return url + " dbname=" + name;
  auto slash = url.find('/', scheme + 3);
  auto query = url.find('?', scheme + 3);
  std::string head = url.substr(0, slash == std::string::npos ? query : slash);
  std::string tail = query == std::string::npos ? "" : url.substr(query);
  return head + "/" + name + tail;
}

/// A database created for one test and dropped (WITH (FORCE)) when it goes away.
class ScratchDatabase {
 public:
  ScratchDatabase()
      : base_(test_support::require_env("DATABASE_URL")),
        name_(test_support::unique_name("cmw")),
        url_(with_database(base_, name_)) {
    pqxx::connection conn(base_);
    pqxx::nontransaction tx(conn);
    tx.exec("create database " + name_);
  }
  ~ScratchDatabase() {
    try {
      pqxx::connection conn(base_);
      pqxx::nontransaction tx(conn);
      tx.exec("drop database if exists " + name_ + " with (force)");
    } catch (const std::exception& e) {
      // A leftover scratch database is harmless; say so rather than fail the test.
      std::fprintf(stderr, "scratch database %s not dropped: %s\n", name_.c_str(), e.what());
    }
  }
  ScratchDatabase(const ScratchDatabase&) = delete;
  ScratchDatabase& operator=(const ScratchDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  std::string base_;
  std::string name_;
  std::string url_;
};

}  // namespace worker_test

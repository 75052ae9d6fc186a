#pragma once
// `hotline verify DIR`: opens a data dir (a live one or a backup) read-only and checks
// that every table can be walked and every value carries a schema envelope.
#include <string>
#include <vector>

namespace hotline::storage {

struct verify_report {
  struct table_count {
    std::string table;
    size_t records = 0;
    size_t bad = 0;
  };
  std::vector<table_count> tables;
  std::vector<std::string> problems;  // one line each, human readable
  bool ok() const { return problems.empty(); }
};

verify_report verify(const std::string& dir);

}  // namespace hotline::storage

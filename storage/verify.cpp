#include "storage/verify.hpp"

#include "storage/env.hpp"
#include "storage/record.hpp"

namespace hotline::storage {

verify_report verify(const std::string& dir) {
  verify_report report;
  std::error_code ec;
  auto e = env::open({.dir = dir, .read_only = true}, ec);
  if (!e) {
    report.problems.push_back("cannot open " + dir + ": " + ec.message());
    return report;
  }
  auto txn = e->read();
  if (!txn.ok()) {
    report.problems.push_back("cannot begin a read transaction: " + txn.error().message());
    return report;
  }
  for (size_t i = 0; i < table_names.size(); ++i) {
    auto t = static_cast<table>(i);
    verify_report::table_count tc{std::string(table_names[i])};
    std::string previous;
    txn.scan(t, {}, {}, [&](std::string_view key, std::string_view value) {
      ++tc.records;
      bool bad = false;
      if (tc.records > 1 && key <= previous) {
        report.problems.push_back(tc.table + ": keys out of order");
        bad = true;
      }
      switch (value_kind_of(t)) {
        case value_kind::record:
          if (!decode_record(value)) {
            report.problems.push_back(tc.table + ": record without a schema envelope at key #" +
                                      std::to_string(tc.records));
            bad = true;
          }
          break;
        case value_kind::empty:  // an index: the key is the entry
          if (!value.empty()) {
            report.problems.push_back(tc.table + ": index entry with a value at key #" + std::to_string(tc.records));
            bad = true;
          }
          break;
        case value_kind::raw:
          break;
      }
      tc.bad += bad;
      previous.assign(key);
      return report.problems.size() < 100;
    });
    report.tables.push_back(std::move(tc));
  }
  return report;
}

}  // namespace hotline::storage

#pragma once
// A set of writes that commit together or not at all. Plain data, so it can travel in
// an actor message to the storage writer.
#include <string>
#include <vector>

#include "storage/tables.hpp"

namespace hotline::storage {

struct write_op {
  enum class kind : uint8_t { put, put_new, erase };
  kind op = kind::put;
  table tbl = table::meta;
  std::string key;
  std::string value;
};

struct write_batch {
  std::vector<write_op> ops;

  void put(table t, std::string key, std::string value) {
    ops.push_back({write_op::kind::put, t, std::move(key), std::move(value)});
  }
  // Fails the whole batch with errc::key_exists if the key is already present.
  void put_new(table t, std::string key, std::string value) {
    ops.push_back({write_op::kind::put_new, t, std::move(key), std::move(value)});
  }
  // Erasing a key that is absent is not an error.
  void erase(table t, std::string key) { ops.push_back({write_op::kind::erase, t, std::move(key), {}}); }

  bool empty() const noexcept { return ops.empty(); }
};

}  // namespace hotline::storage

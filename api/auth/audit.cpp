#include "api/auth/audit.hpp"

#include <boost/json/serialize.hpp>

#include "storage/record.hpp"
#include "storage/tables.hpp"

namespace hotline::auth {

std::string audit_log::append(storage::write_batch& batch, const audit_event& e) {
  auto now = clock_.now_ms();
  uint64_t id;
  {
    std::lock_guard lock(ids_mutex_);
    id = ids_.next(now);
  }
  boost::json::object o{{"id", std::to_string(id)}, {"ts_ms", now},   {"actor", e.actor},
                        {"action", e.action},       {"target", e.target}, {"remote", e.remote},
                        {"site", e.site},           {"ok", e.ok}};
  if (!e.detail.empty()) o["detail"] = e.detail;
  batch.put(storage::table::audit, storage::be64(id), storage::encode_record(o, 1));
  return boost::json::serialize(o);
}

void audit_log::publish(std::string entry_json) {
  if (hub_) hub_->publish("audit", std::move(entry_json));
}

}  // namespace hotline::auth

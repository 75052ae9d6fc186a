#pragma once
// Every message type and atom that Hotline's actors exchange, in one type-ID block
// (forward-compatible with CAF 0.18, DEPENDENCIES.md §2). Include only from actor TUs.
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/type_id.hpp>

#include "storage/write_batch.hpp"

namespace hotline::storage {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_op& x) {
  return f(caf::meta::type_name("hotline::storage::write_op"), x.op, x.tbl, x.key, x.value);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_batch& x) {
  return f(caf::meta::type_name("hotline::storage::write_batch"), x.ops);
}

}  // namespace hotline::storage

CAF_BEGIN_TYPE_ID_BLOCK(hotline, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(hotline, (hotline::storage::write_batch))
  CAF_ADD_ATOM(hotline, hotline::atoms, write_atom, "write")
  CAF_ADD_ATOM(hotline, hotline::atoms, flush_atom, "flush")
  CAF_ADD_ATOM(hotline, hotline::atoms, sync_atom, "sync")
  CAF_ADD_ATOM(hotline, hotline::atoms, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(hotline, hotline::atoms, unsub_atom, "unsub")
  CAF_ADD_ATOM(hotline, hotline::atoms, publish_atom, "publish")
  CAF_ADD_ATOM(hotline, hotline::atoms, drop_atom, "drop")
CAF_END_TYPE_ID_BLOCK(hotline)

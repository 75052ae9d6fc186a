#pragma once
// The knowledge-base endpoints (/v1/kb/...): search for every logged-in user, the
// curation workflow for curators and experts (N-28), analytics reports (N-29).
#include "actors/kb/service.hpp"
#include "api/config/config.hpp"
#include "api/v1/router.hpp"
#include "storage/env.hpp"

namespace hotline::api {

void add_kb_routes(router& r, kb::service& kb, const storage::env& env, const config::config& cfg);
// The reports (kb_reports.cpp); add_kb_routes adds them too.
void add_kb_report_routes(router& r, kb::service& kb, const storage::env& env);

// JSON Lines import shared by the API and `hotline kb import`: one entry per line;
// the first bad line stops it with its line number.
result<std::vector<kb::entry>> parse_entries_jsonl(std::string_view text);

}  // namespace hotline::api

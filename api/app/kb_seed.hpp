#pragma once
// The starter knowledge base embedded in the binary (search/kb_seed/): 300+ entries
// written for Hotline, and the synonym dictionary.
#include <string_view>

namespace hotline::app {

std::string_view kb_seed_entries_jsonl();
std::string_view kb_seed_synonyms_json();

}  // namespace hotline::app

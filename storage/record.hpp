#pragma once
// Every value in Hotline's LMDB tables is a JSON object carrying its schema version in
// "v" (docs/storage.md says why JSON: readable with mdb_dump, evolvable, and fast enough
// at our record sizes). Readers upgrade old versions; `hotline verify` checks the envelope.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hotline::storage {

// Serialises `body` with "v" set to `version`.
std::string encode_record(boost::json::object body, int version);

// Parses a stored value; nullopt if it is not a JSON object with an integer "v" >= 1.
std::optional<boost::json::object> decode_record(std::string_view bytes);

}  // namespace hotline::storage

#pragma once
// A knowledge-base entry (N-08, N-10, N-28): one question with its unified answer
// (统一答复口径), the complete materials list, where and when it applies, its sources, and
// its place in the curation workflow. Plain data: the KB actor stores every version in
// LMDB, the index (index.hpp) makes the published ones searchable.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::kb {

// draft -> in_review -> published -> superseded | expired; a review may send it back to
// draft; an approval with a later publish day waits as `approved` until that day.
enum class status : uint8_t { draft, in_review, published, superseded, expired, approved };
std::string_view to_string(status s);
std::optional<status> parse_status(std::string_view s);

struct source_doc {
  std::string title;
  std::string issuer;
  std::string number;  // 文号, may be empty
  std::string date;    // YYYY-MM-DD
  std::string link;    // URL or stored file reference, may be empty
};

struct entry {
  std::string id;  // "kb-0001": stable across versions
  uint32_t version = 1;
  std::string question;
  std::vector<std::string> phrasings;  // how callers actually ask it
  std::string answer;
  std::vector<std::string> materials;  // complete list (N-10), empty when none apply
  std::string topic;                   // pension, medical, unemployment, work_injury, ...
  std::string subtopic;
  std::string region;                  // "national" | "province" | "city:<name>"
  std::vector<std::string> tags;
  std::string effective;               // YYYY-MM-DD
  std::string expires;                 // YYYY-MM-DD or empty (no end)
  std::vector<source_doc> sources;
  std::string supersedes;              // id of the entry this one replaces, or empty

  status state = status::draft;
  std::string author;
  std::string reviewer;
  uint64_t created_ms = 0;
  uint64_t updated_ms = 0;
  uint64_t submitted_ms = 0;
  uint64_t reviewed_ms = 0;
  uint64_t published_ms = 0;
  std::string publish_at;  // YYYY-MM-DD: approved, publishes automatically on that day

  // In force on `day` (YYYY-MM-DD): effective <= day and (no expiry or day < expires).
  bool in_force_on(std::string_view day) const;
};

// JSON as in the seed files (search/kb_seed/*.jsonl) plus the workflow fields. Decoding
// names the first problem in `error` and returns nullopt.
boost::json::object to_json(const entry& e);
std::optional<entry> entry_from_json(const boost::json::object& o, std::string& error);

// A calendar day written YYYY-MM-DD (month 1-12, day 1-31): every date field uses it.
bool valid_day(std::string_view day);

// Region precedence for an agent of `city` (N-28/N-29): 0 for the agent's city, 1 for the
// province, 2 for national, -1 for a region the agent does not see.
int region_rank(std::string_view region, std::string_view agent_city);

}  // namespace hotline::kb

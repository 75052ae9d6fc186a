#pragma once
// The curation workflow of the knowledge base (N-28) as plain functions: what each step
// requires and which entry versions it writes. No actors, no storage — the KB actor
// loads the versions, calls these, and commits what they return in one batch.
//
//   create/update -> draft -> submit -> in_review -> approve -> published (or approved,
//   publishing itself on publish_at) ; reject -> draft
//   publishing supersedes the entry's previous published version and the entry named in
//   `supersedes`; an entry past its expiry date becomes expired (daily sweep).
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "search/entry.hpp"

namespace hotline::kb {

struct kb_error {
  enum class kind { not_found, forbidden, conflict, invalid };
  kind what = kind::invalid;
  std::string message;
  std::string field;
};

// The versions a step writes (new ones, or existing ones with a new state). The KB actor
// also updates the index: every written version that is published goes in, every other
// state takes the entry's id out unless another written version of it is published.
struct step {
  std::vector<entry> writes;
};

using outcome = std::variant<step, kb_error>;

// Content checks for a draft: required fields, dates, region, lengths.
std::optional<kb_error> validate_content(const entry& e);

// A new entry: version 1, draft, `author`.
outcome create(entry draft, const std::string& author, uint64_t now_ms);
// A new version of `latest`'s content. Allowed while latest is draft (any curator) or
// published/expired/superseded (starts the next draft); not while in review or approved.
outcome update(const entry& latest, entry content, const std::string& editor, uint64_t now_ms);
outcome submit(const entry& latest, const std::string& user, uint64_t now_ms);
// No self-review: the reviewer must not be the version's author. `publish_at` empty or
// not after `today` publishes now; a later day leaves it approved until then.
// `published` is the currently published version of the same id, `replaced` the
// published version of the entry named in `supersedes` (both may be null).
outcome approve(const entry& latest, const entry* published, const entry* replaced, const std::string& reviewer,
                const std::string& publish_at, const std::string& today, uint64_t now_ms);
outcome reject(const entry& latest, const std::string& reviewer, uint64_t now_ms);
// Daily sweep for one entry: an approved version whose day has come is published; a
// published version past its expiry expires. nullopt when nothing changes.
std::optional<step> sweep(const entry& latest, const entry* published, const entry* replaced, const std::string& today,
                          uint64_t now_ms);

// A field-by-field comparison of two versions; text fields also as a character diff.
struct field_change {
  std::string field;
  std::string before;  // JSON text of the old value
  std::string after;
  // For text fields: segments of the character diff, each {op: '=', '-', '+', text}.
  struct segment {
    char op;
    std::string text;
  };
  std::vector<segment> diff;
};
std::vector<field_change> diff(const entry& a, const entry& b);

}  // namespace hotline::kb

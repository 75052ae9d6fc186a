#pragma once
// The synonym dictionary curators maintain (社保 ↔ 社会保险, 医保 ↔ 医疗保险, ...). A query term
// found in a group is searched as any member of the group (Xapian OP_SYNONYM: the group
// counts as one term for ranking, so a synonym never outweighs the word itself).
#include <boost/json/array.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hotline::kb {

class synonyms {
 public:
  synonyms() = default;
  explicit synonyms(std::vector<std::vector<std::string>> groups);
  // Parses a JSON array of arrays of strings; nullopt-like empty dictionary on error with
  // `error` set.
  static synonyms from_json(std::string_view text, std::string& error);

  const std::vector<std::vector<std::string>>& groups() const { return groups_; }
  // The groups as a JSON array of arrays (what from_json reads).
  boost::json::array to_json() const;
  // Groups containing a member that occurs in `text` (a substring match: the user types no
  // spaces between Chinese words).
  std::vector<const std::vector<std::string>*> groups_in(std::string_view text) const;

 private:
  std::vector<std::vector<std::string>> groups_;
};

}  // namespace hotline::kb

#include "search/synonyms.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace hotline::kb {

synonyms::synonyms(std::vector<std::vector<std::string>> groups) {
  // Empty members would occur in every text; a group of one expands to nothing.
  for (auto& g : groups) {
    std::vector<std::string> members;
    for (auto& m : g)
      if (!m.empty() && std::find(members.begin(), members.end(), m) == members.end()) members.push_back(std::move(m));
    if (members.size() >= 2) groups_.push_back(std::move(members));
  }
}

synonyms synonyms::from_json(std::string_view text, std::string& error) {
  error.clear();
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec) {
    error = "synonyms: not JSON (" + ec.message() + ")";
    return {};
  }
  const auto* groups = v.if_array();
  if (!groups) {
    error = "synonyms: must be an array of groups, each an array of strings";
    return {};
  }
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < groups->size(); ++i) {
    const auto* g = (*groups)[i].if_array();
    if (!g) {
      error = "synonyms[" + std::to_string(i) + "] must be an array of strings";
      return {};
    }
    std::vector<std::string> members;
    for (const auto& m : *g) {
      const auto* s = m.if_string();
      if (!s) {
        error = "synonyms[" + std::to_string(i) + "] must be an array of strings";
        return {};
      }
      members.emplace_back(s->data(), s->size());
    }
    out.push_back(std::move(members));
  }
  return synonyms(std::move(out));
}

std::vector<const std::vector<std::string>*> synonyms::groups_in(std::string_view text) const {
  std::vector<const std::vector<std::string>*> out;
  for (const auto& g : groups_)
    if (std::any_of(g.begin(), g.end(), [&](const std::string& m) { return text.find(m) != std::string_view::npos; }))
      out.push_back(&g);
  return out;
}

boost::json::array synonyms::to_json() const {
  boost::json::array out;
  for (const auto& g : groups_) {
    boost::json::array a;
    for (const auto& t : g) a.emplace_back(t);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace hotline::kb

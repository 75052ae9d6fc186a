#include "actors/kb/workflow.hpp"

#include <boost/json/serialize.hpp>

namespace hotline::kb {

namespace {

kb_error conflict(std::string m) { return {kb_error::kind::conflict, std::move(m), {}}; }
kb_error invalid(std::string m, std::string f) { return {kb_error::kind::invalid, std::move(m), std::move(f)}; }

// Content fields only: workflow fields of `content` are ignored.
entry with_content(entry base, const entry& content) {
  base.question = content.question;
  base.phrasings = content.phrasings;
  base.answer = content.answer;
  base.materials = content.materials;
  base.topic = content.topic;
  base.subtopic = content.subtopic;
  base.region = content.region;
  base.tags = content.tags;
  base.effective = content.effective;
  base.expires = content.expires;
  base.sources = content.sources;
  base.supersedes = content.supersedes;
  return base;
}

entry publish(entry v, uint64_t now_ms) {
  v.state = status::published;
  v.published_ms = now_ms;
  v.publish_at.clear();
  return v;
}

entry superseded(entry v, uint64_t now_ms) {
  v.state = status::superseded;
  v.updated_ms = now_ms;
  return v;
}

// Publishing `v` retires the id's previous published version and the replaced entry.
step publish_step(const entry& v, const entry* published, const entry* replaced, uint64_t now_ms) {
  step s;
  s.writes.push_back(publish(v, now_ms));
  if (published && published->version != v.version) s.writes.push_back(superseded(*published, now_ms));
  if (replaced && replaced->id != v.id) s.writes.push_back(superseded(*replaced, now_ms));
  return s;
}

}  // namespace

std::optional<kb_error> validate_content(const entry& e) {
  if (e.question.empty()) return invalid("question is required", "question");
  if (e.question.size() > 1000) return invalid("question is longer than 1000 bytes", "question");
  if (e.answer.empty()) return invalid("answer is required (the unified answer, 统一答复口径)", "answer");
  if (e.answer.size() > 20000) return invalid("answer is longer than 20000 bytes", "answer");
  if (e.topic.empty()) return invalid("topic is required", "topic");
  if (region_rank(e.region, "") < 0 && e.region.rfind("city:", 0) != 0)
    return invalid("region must be national, province or city:<name>", "region");
  if (e.region == "city:") return invalid("a city region needs the city's name", "region");
  if (!e.effective.empty() && !valid_day(e.effective)) return invalid("effective must be YYYY-MM-DD", "effective");
  if (!e.expires.empty() && !valid_day(e.expires)) return invalid("expires must be YYYY-MM-DD", "expires");
  if (!e.effective.empty() && !e.expires.empty() && e.expires <= e.effective)
    return invalid("expires must be after effective", "expires");
  if (e.phrasings.size() > 50) return invalid("at most 50 phrasings", "phrasings");
  if (e.supersedes == e.id && !e.id.empty()) return invalid("an entry cannot supersede itself", "supersedes");
  return std::nullopt;
}

outcome create(entry draft, const std::string& author, uint64_t now_ms) {
  if (auto err = validate_content(draft)) return *err;
  entry v = with_content(entry{}, draft);
  v.id = draft.id;
  v.version = 1;
  v.state = status::draft;
  v.author = author;
  v.created_ms = v.updated_ms = now_ms;
  return step{{v}};
}

outcome update(const entry& latest, entry content, const std::string& editor, uint64_t now_ms) {
  content.id = latest.id;
  if (auto err = validate_content(content)) return *err;
  if (latest.state == status::in_review || latest.state == status::approved)
    return conflict("version " + std::to_string(latest.version) + " is " + std::string(to_string(latest.state)) +
                    "; reject it before editing");
  entry v = with_content(entry{}, content);
  v.id = latest.id;
  v.version = latest.version + 1;
  v.state = status::draft;
  v.author = editor;
  v.created_ms = v.updated_ms = now_ms;
  return step{{v}};
}

outcome submit(const entry& latest, const std::string& user, uint64_t now_ms) {
  if (latest.state != status::draft)
    return conflict("only a draft can be submitted; version " + std::to_string(latest.version) + " is " +
                    std::string(to_string(latest.state)));
  (void)user;
  entry v = latest;
  v.state = status::in_review;
  v.submitted_ms = v.updated_ms = now_ms;
  return step{{v}};
}

outcome approve(const entry& latest, const entry* published, const entry* replaced, const std::string& reviewer,
                const std::string& publish_at, const std::string& today, uint64_t now_ms) {
  if (latest.state != status::in_review) return conflict("only an entry in review can be approved");
  if (reviewer == latest.author)
    return kb_error{kb_error::kind::forbidden, "no self-review: a second person must review this version", {}};
  if (!publish_at.empty() && !valid_day(publish_at)) return invalid("publish_at must be YYYY-MM-DD", "publish_at");
  entry v = latest;
  v.reviewer = reviewer;
  v.reviewed_ms = v.updated_ms = now_ms;
  if (!publish_at.empty() && publish_at > today) {
    v.state = status::approved;
    v.publish_at = publish_at;
    return step{{v}};
  }
  return publish_step(v, published, replaced, now_ms);
}

// An author may also withdraw their own submission this way; that is not a review.
outcome reject(const entry& latest, const std::string& reviewer, uint64_t now_ms) {
  if (latest.state != status::in_review && latest.state != status::approved)
    return conflict("only an entry in review or approved can be sent back");
  entry v = latest;
  v.state = status::draft;
  v.reviewer = reviewer;
  v.publish_at.clear();
  v.reviewed_ms = v.updated_ms = now_ms;
  return step{{v}};
}

std::optional<step> sweep(const entry& latest, const entry* published, const entry* replaced, const std::string& today,
                          uint64_t now_ms) {
  if (latest.state == status::approved && !latest.publish_at.empty() && latest.publish_at <= today)
    return publish_step(latest, published, replaced, now_ms);
  if (published && published->state == status::published && !published->expires.empty() &&
      published->expires <= today) {
    entry v = *published;
    v.state = status::expired;
    v.updated_ms = now_ms;
    return step{{v}};
  }
  return std::nullopt;
}

namespace {

// Character diff by longest common subsequence over UTF-8 code points. Entries are short
// (an answer is a few hundred characters), so the quadratic table is small; above a
// bound we fall back to "all removed, all added".
std::vector<std::string> code_points(const std::string& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::vector<field_change::segment> char_diff(const std::string& a, const std::string& b) {
  auto x = code_points(a), y = code_points(b);
  std::vector<field_change::segment> out;
  auto push = [&](char op, const std::string& t) {
    if (!out.empty() && out.back().op == op) out.back().text += t;
    else out.push_back({op, t});
  };
  if (x.size() * y.size() > 4'000'000) {
    if (!a.empty()) push('-', a);
    if (!b.empty()) push('+', b);
    return out;
  }
  std::vector<std::vector<uint32_t>> lcs(x.size() + 1, std::vector<uint32_t>(y.size() + 1, 0));
  for (size_t i = x.size(); i-- > 0;)
    for (size_t j = y.size(); j-- > 0;)
      lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  size_t i = 0, j = 0;
  while (i < x.size() && j < y.size()) {
    if (x[i] == y[j]) push('=', x[i++]), ++j;
    else if (lcs[i + 1][j] >= lcs[i][j + 1]) push('-', x[i++]);
    else push('+', y[j++]);
  }
  while (i < x.size()) push('-', x[i++]);
  while (j < y.size()) push('+', y[j++]);
  return out;
}

}  // namespace

std::vector<field_change> diff(const entry& a, const entry& b) {
  std::vector<field_change> out;
  auto ja = to_json(a), jb = to_json(b);
  static const char* content_fields[] = {"question", "phrasings", "answer",  "materials", "topic",   "subtopic",
                                         "region",   "tags",      "effective", "expires", "sources", "supersedes"};
  for (const char* f : content_fields) {
    const auto* va = ja.if_contains(f);
    const auto* vb = jb.if_contains(f);
    auto sa = va ? boost::json::serialize(*va) : "null";
    auto sb = vb ? boost::json::serialize(*vb) : "null";
    if (sa == sb) continue;
    field_change c{f, sa, sb, {}};
    if (va && vb && va->is_string() && vb->is_string())
      c.diff = char_diff(std::string(va->as_string()), std::string(vb->as_string()));
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace hotline::kb

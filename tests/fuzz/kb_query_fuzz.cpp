// What an agent types into the knowledge-base search, any bytes at all: the query plan
// (n-grams, synonym groups, pinyin initials), both search paths (in memory and Xapian) and
// the snippets must return, never crash, over a small real index built once.
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "search/index.hpp"
#include "search/snippet.hpp"

namespace {

using namespace hotline::kb;

struct fixture {
  std::unique_ptr<index_writer> writer;
  std::unique_ptr<index_reader> hot, xapian;
  synonyms syn{{{"社保", "社会保险"}, {"医保", "医疗保险", "基本医疗保险"}, {"社保卡", "社会保障卡"}}};

  std::string dir = (std::filesystem::temp_directory_path() / "kb-query-fuzz-XXXXXX").string();

  ~fixture() {
    hot.reset(), xapian.reset(), writer.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  fixture() {
    if (!mkdtemp(dir.data())) abort();
    std::string error;
    writer = index_writer::open(dir, error);
    if (!writer) abort();
    const char* questions[] = {"社保卡丢了怎么挂失？", "养老保险关系怎么转移？", "失业登记在哪里办？",
                               "医疗保险报销比例是多少？", "工伤认定需要哪些材料？", "银行卡怎么绑定社会保障卡？"};
    int n = 0;
    for (const char* q : questions) {
      entry e;
      e.id = "kb-" + std::to_string(++n);
      e.question = q;
      e.answer = std::string("关于") + q + "的统一答复：请携带<身份证>&材料到窗口办理。";
      e.tags = {"社保卡"};
      e.topic = n % 2 ? "pension" : "ss_card";
      e.region = n % 3 ? "national" : "city:杭州";
      e.effective = "2020-01-01";
      e.state = status::published;
      writer->upsert(e);
    }
    if (!writer->commit(error)) abort();
    hot = index_reader::open(dir, error, {}, writer->hot());
    xapian = index_reader::open(dir, error);
    if (!hot || !xapian) abort();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fixture f;
  std::string text(reinterpret_cast<const char*>(data), size);
  search_query q;
  q.text = text;
  q.agent_city = "杭州";
  q.in_force_on = "2025-06-01";
  auto a = f.hot->search(q, f.syn);
  auto b = f.xapian->search(q, f.syn);
  if (a.hits.size() > q.limit || b.hits.size() > q.limit) abort();
  make_snippet(text, {"社保", "卡", text.substr(0, 6)});
  return 0;
}

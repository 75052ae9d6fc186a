// Knowledge-base search at scale: 100,000 generated entries (composed from vocabularies
// of policy terms, cities, actions and materials with a fixed PRNG, so every run indexes
// the same content), then
//   1. indexing rate (goal >= 1,000 entries/s),
//   2. 8 concurrent searchers running agent-style queries with region/day filters, facets
//      and snippets for ~5 s: p50/p99 (goal p50 <= 0.5 ms, p99 <= 3 ms), three runs,
//      median and spread; once as the server runs them (the searchers' requests go to a
//      search_pool with a thread per core, the latency counts the wait in its queue), once
//      with every searcher a thread of its own searching directly (time-sliced),
//   3. publish-to-searchable: upsert + commit on the writer, refresh + search on a reader
//      until the entry is found (goal <= 1 s).
// The index lives on disk under the system temp dir (check it is not tmpfs) and is
// deleted afterwards.
// Usage: kb_search_bench [entries=100000] [seconds_per_run=5] [searchers=8] [facet_checkatleast]
//        [pool_threads=hardware threads]
#include <stdlib.h>
#include <sys/vfs.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "search/hot_index.hpp"
#include "search/index.hpp"
#include "search/search_pool.hpp"

namespace {

using namespace hotline::kb;
using clock_type = std::chrono::steady_clock;

// splitmix64: the same sequence on every platform (std distributions are not).
struct prng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }
  template <class T, size_t N>
  const T& pick(const T (&a)[N]) {
    return a[below(N)];
  }
};

const char* const topics[] = {"pension",   "medical",  "unemployment", "work_injury",    "maternity",     "employment",
                              "ss_card",   "wages",    "labour_contract", "labour_dispute", "personnel", "talent"};
const char* const cities[] = {"杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水", "义乌"};
const char* const subjects[] = {
    "基本养老保险", "城乡居民养老保险", "养老金",   "职工医保",     "医保个人账户", "异地就医备案", "门诊慢特病",
    "失业保险金",   "失业登记",         "工伤认定", "劳动能力鉴定", "工伤医疗费",   "生育津贴",     "产前检查费",
    "社会保障卡",   "电子社保卡",       "就业创业证", "创业担保贷款", "职业技能培训补贴", "高校毕业生就业",
    "灵活就业人员参保", "最低工资标准", "加班工资", "劳动合同续签", "经济补偿金", "劳动仲裁", "人事档案",
    "职称评审",     "技能等级认定",     "稳岗返还", "社保关系转移", "养老保险补缴", "退休年龄", "丧葬补助金",
    "抚恤金",       "住院报销",         "大病保险", "居民医保缴费", "新生儿参保", "欠薪投诉"};
const char* const actions[] = {"怎么办理", "如何申请",   "需要哪些材料", "在哪里办理", "多久能到账", "怎么查询",
                               "能不能补缴", "如何变更", "怎么注销",     "标准是多少", "有什么条件", "网上能办吗",
                               "要交多少钱", "怎么转移", "逾期了怎么办", "能领多久"};
const char* const who[] = {"灵活就业人员", "退休人员",   "在校大学生", "外地户籍职工", "个体工商户", "农民工",
                           "退役军人",     "残疾人",     "失业人员",   "新入职员工",   "企业职工",   "机关事业单位人员",
                           "港澳台居民",   "外国人",     "困难家庭",   "独生子女家庭"};
const char* const places[] = {"社保经办机构", "街道便民服务中心", "人社局窗口", "医保服务大厅", "浙里办",
                              "掌上12333",    "支付宝市民中心",   "参保地经办机构", "就业服务中心", "合作银行网点"};
const char* const materials[] = {"居民身份证", "社会保障卡",   "户口簿",       "结婚证",     "出生医学证明",
                                 "劳动合同",   "解除劳动关系证明", "银行卡",     "医疗费用发票", "诊断证明",
                                 "工伤认定决定书", "营业执照", "居住证",         "学历证书",   "退役证",
                                 "残疾人证",   "死亡证明",     "委托书",       "近期免冠照片", "病历资料"};
const char* const clauses[] = {
    "符合条件的可以按月领取待遇", "缴费年限累计计算",   "材料齐全的当场受理",       "一般在十五个工作日内办结",
    "逾期未办理的可以补办",       "办理结果可以在线查询", "跨省转移接续不影响待遇",   "个人缴费部分计入个人账户",
    "单位应当在三十日内申报",     "待遇标准每年调整一次", "享受期间不再缴纳保险费",   "可以委托他人代为办理",
    "异地居住的可以通过网上办理", "费用按规定比例报销",   "首次申领需要本人到场",     "信息有误的应当及时更正"};

const char* const openers[] = {"", "", "", "你好，", "请问", "喂，你好，", "麻烦问一下，", "我想咨询一下，", "师傅，", "您好，"};

std::string compose_answer(prng& r, const std::string& subject, const std::string& place, const std::string& city) {
  std::string a = subject + "请到" + place + "办理，";
  size_t n = 2 + r.below(6);
  for (size_t i = 0; i < n; ++i) {
    a += r.pick(clauses);
    a += i + 1 == n ? "。" : "，";
    switch (r.below(6)) {
      case 0: a += std::string(r.pick(who)) + "另有规定的，按当地政策执行。"; break;
      case 1: a += city + std::to_string(2019 + r.below(6)) + "年标准为每月" + std::to_string(200 + r.below(4000)) + "元。"; break;
      case 2: a += "一般" + std::to_string(3 + r.below(58)) + "个工作日内办结。"; break;
      case 3: a += "需提供" + std::string(r.pick(materials)) + "原件及复印件。"; break;
      default: break;
    }
  }
  if (r.below(3) == 0) a += "详情可拨打12333咨询。";
  return a;
}

// How callers ask it: a few of many shapes, not the same filler in every entry.
std::string phrasing(prng& r, const std::string& subject, const std::string& person, const std::string& city) {
  switch (r.below(10)) {
    case 0: return subject + r.pick(actions);
    case 1: return "请问" + subject + r.pick(actions);
    case 2: return person + "的" + subject + r.pick(actions);
    case 3: return "我想了解一下" + subject;
    case 4: return city + "的" + subject + "在哪办";
    case 5: return subject + r.pick(actions) + "啊";
    case 6: return "家里老人的" + subject + r.pick(actions);
    case 7: return "帮我查一下" + subject;
    case 8: return subject + "过期了还能办吗";
    default: return person + "可以办" + subject + "吗";
  }
}

entry make_entry(prng& r, size_t i) {
  entry e;
  char id[32];
  std::snprintf(id, sizeof id, "kb-%06zu", i);
  e.id = id;
  std::string subject = r.pick(subjects), action = r.pick(actions), person = r.pick(who);
  std::string city = r.pick(cities), place = r.pick(places);
  e.question = (r.below(2) ? person : "") + subject + action + "？";
  for (size_t k = 0, n = 1 + r.below(4); k < n; ++k) e.phrasings.push_back(phrasing(r, subject, person, city));
  e.answer = compose_answer(r, subject, place, city);
  for (size_t k = 0, n = r.below(5); k < n; ++k) e.materials.push_back(r.pick(materials));
  e.topic = r.pick(topics);
  e.subtopic = "generated";
  size_t region = r.below(10);
  e.region = region < 6 ? "national" : region < 8 ? "province" : "city:" + city;
  e.tags = {subject, person};
  e.effective = "20" + std::to_string(18 + r.below(7)) + "-01-01";
  if (r.below(10) == 0) e.expires = "2024-07-01";  // some policies have ended
  e.state = r.below(20) == 0 ? status::superseded : status::published;
  return e;
}

std::string make_query(prng& r) {
  std::string q = r.pick(openers);
  switch (r.below(5)) {
    case 0: return q + r.pick(subjects) + r.pick(actions);
    case 1: return q + "我是" + r.pick(who) + "，想问一下" + r.pick(subjects) + r.pick(actions);
    case 2: return q + r.pick(cities) + r.pick(subjects);
    case 3: return q + r.pick(subjects) + "要带" + r.pick(materials) + "吗";
    default: return q + r.pick(who) + r.pick(subjects);
  }
}

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<size_t>(p * (v.size() - 1));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// KB_BENCH_OFF=snippets,facets,day,topics,regions,city turns parts of each query off, to
// see what each costs.
bool off(const char* part) {
  static const std::string spec = std::getenv("KB_BENCH_OFF") ? std::getenv("KB_BENCH_OFF") : "";
  return spec.find(part) != std::string::npos;
}

struct run_result {
  double p50 = 0, p99 = 0, mean = 0, qps = 0;
  size_t queries = 0, errors = 0;
};

// Through the pool, where a search's time went: waiting in the pool's queue, searching,
// and from the answer until the waiting searcher ran again (printed per run).
struct pool_parts {
  std::vector<double> queued, searched, woken;
  void print() {
    auto line = [](const char* name, std::vector<double>& v) {
      double mean = 0;
      for (double x : v) mean += x / static_cast<double>(v.size());
      double p50 = percentile(v, 0.5), p90 = percentile(v, 0.9), p99 = percentile(v, 0.99);
      std::printf("    %-28s p50 %.3f  p90 %.3f  p99 %.3f  mean %.3f ms\n", name, p50, p90, p99, mean);
    };
    line("waiting in the pool's queue", queued);
    line("searching", searched);
    line("answer -> searcher running", woken);
  }
};

// `threads` searchers, each asking one question at a time. With a `pool`, a searcher
// posts its search there and waits for the answer (as the server's request handlers do:
// the result is used on the pool's thread, the waiting searcher learns it is done);
// without, it searches on its own reader.
run_result search_run(const std::string& dir, const ranking_options& ranking, const synonyms& syn, size_t threads,
                      double seconds, uint64_t seed, const std::shared_ptr<hot_index>& hot, search_pool* pool) {
  std::vector<std::vector<double>> lat(threads);
  std::vector<pool_parts> parts(threads);
  std::atomic<size_t> errors{0};
  auto stop_at = clock_type::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> searchers;
  for (size_t t = 0; t < threads; ++t)
    searchers.emplace_back([&, t] {
      std::string error;
      auto reader = pool ? nullptr : index_reader::open(dir, error, ranking, hot);
      if (!pool && !reader) return (void)std::fprintf(stderr, "reader: %s\n", error.c_str());
      prng r{seed * 1000 + t};
      while (clock_type::now() < stop_at) {
        search_query q;
        q.text = make_query(r);
        q.agent_city = r.pick(cities);
        q.regions = {"city:" + q.agent_city, "province", "national"};
        q.in_force_on = "2025-06-01";
        if (r.below(3) == 0) q.topics = {r.pick(topics)};
        if (off("snippets")) q.snippets = false;
        if (off("facets")) q.facets = false;
        if (off("day")) q.in_force_on.clear();
        if (off("topics")) q.topics.clear();
        if (off("regions")) q.regions.clear();
        if (off("city")) q.agent_city.clear();
        auto t0 = clock_type::now();
        if (pool) {
          // Shared with the job: the pool's thread may still be in notify_one() when the
          // searcher, woken, has moved on.
          auto answered = std::make_shared<std::atomic<int>>(0);
          clock_type::time_point started, done;
          pool->post([&, answered](index_reader& rd) {
            started = clock_type::now();
            if (!rd.search(q, syn).error.empty()) ++errors;
            done = clock_type::now();
            answered->store(1);
            answered->notify_one();
          });
          answered->wait(0);
          auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
          parts[t].queued.push_back(ms(started - t0));
          parts[t].searched.push_back(ms(done - started));
          parts[t].woken.push_back(ms(clock_type::now() - done));
        } else if (!reader->search(q, syn).error.empty()) {
          ++errors;
        }
        lat[t].push_back(ms_since(t0));
      }
    });
  for (auto& th : searchers) th.join();
  if (pool) {
    pool_parts all;
    for (auto& p : parts) {
      all.queued.insert(all.queued.end(), p.queued.begin(), p.queued.end());
      all.searched.insert(all.searched.end(), p.searched.begin(), p.searched.end());
      all.woken.insert(all.woken.end(), p.woken.begin(), p.woken.end());
    }
    all.print();
  }
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  run_result out;
  out.queries = all.size();
  out.errors = errors;
  out.qps = all.size() / seconds;
  for (double v : all) out.mean += v / static_cast<double>(all.size());
  out.p50 = percentile(all, 0.50);
  out.p99 = percentile(all, 0.99);
  return out;
}

// How often the in-memory search (best postings per term, then exact scores) returns what
// Xapian's exhaustive matcher returns for the same plan: the price of its speed.
void agreement(const std::string& dir, const ranking_options& ranking, const synonyms& syn,
               const std::shared_ptr<hot_index>& hot, size_t n) {
  std::string error;
  auto fast = index_reader::open(dir, error, ranking, hot);
  auto full = index_reader::open(dir, error, ranking);
  if (!fast || !full) return (void)std::fprintf(stderr, "reader: %s\n", error.c_str());
  prng r{7};
  size_t same_top1 = 0, compared = 0;
  double ratio_sum = 0;
  for (size_t i = 0; i < n; ++i) {
    search_query q;
    q.text = make_query(r);
    q.agent_city = r.pick(cities);
    q.regions = {"city:" + q.agent_city, "province", "national"};
    q.in_force_on = "2025-06-01";
    q.facets = q.snippets = false;
    auto a = fast->search(q, syn).hits, b = full->search(q, syn).hits;
    if (a.empty() || b.empty()) continue;
    ++compared;
    // The generated entries repeat: many tie, so "as good" is the score, not the id.
    same_top1 += a[0].id == b[0].id || a[0].score >= b[0].score * 0.99;
    ratio_sum += a[0].score / b[0].score;
  }
  std::printf("agreement with Xapian's exhaustive ranking over %zu queries: top-1 the same entry or as good "
              "(score within 1 %%) %.1f %%, mean top-1 score %.2f %% of the exhaustive one\n",
              compared, 100.0 * same_top1 / std::max<size_t>(compared, 1), 100.0 * ratio_sum / std::max<size_t>(compared, 1));
}

// Median and spread (min..max) of one figure over the runs.
void report(const char* name, std::vector<double> v, const char* unit) {
  std::sort(v.begin(), v.end());
  std::printf("  %-6s median %8.3f %s   spread %.3f .. %.3f\n", name, v[v.size() / 2], unit, v.front(), v.back());
}

// Upsert + commit a new entry, then refresh + search on a reader until it shows.
std::vector<double> publish_latency(index_writer& w, index_reader& r, const synonyms& syn, size_t n) {
  std::vector<double> out;
  for (size_t i = 0; i < n; ++i) {
    entry e;
    e.id = "kb-pub-" + std::to_string(i);
    e.question = "星辰第" + std::to_string(i) + "号补贴怎么领取？";
    e.answer = "星辰补贴到街道窗口申请。编号" + std::to_string(i);
    e.topic = "employment";
    e.region = "national";
    e.effective = "2024-01-01";
    e.state = status::published;
    search_query q;
    q.text = "星辰第" + std::to_string(i) + "号补贴";
    q.facets = false;
    auto t0 = clock_type::now();
    std::string error;
    w.upsert(e);
    if (!w.commit(error)) std::fprintf(stderr, "commit: %s\n", error.c_str());
    for (;;) {
      r.refresh();
      auto res = r.search(q, syn);
      if (!res.hits.empty() && res.hits[0].id == e.id) break;
      if (ms_since(t0) > 10'000) {
        std::fprintf(stderr, "entry %s not searchable after 10 s\n", e.id.c_str());
        break;
      }
    }
    out.push_back(ms_since(t0));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100'000;
  double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 5.0;
  size_t threads = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 8;
  ranking_options ranking;  // the shipped defaults, but for facet_checkatleast if given
  if (argc > 4) ranking.facet_checkatleast = std::strtoul(argv[4], nullptr, 10);
  size_t pool_threads = argc > 5 ? std::strtoul(argv[5], nullptr, 10) : std::max(1u, std::thread::hardware_concurrency());
  // KB_BENCH_INDEX=DIR keeps the index there and reuses it on the next run (for profiling
  // the search alone); otherwise a fresh temporary index, deleted afterwards.
  const char* keep = std::getenv("KB_BENCH_INDEX");
  std::string dir;
  if (keep && *keep) {
    dir = keep;
    std::filesystem::create_directories(dir);
  } else {
    std::string tmpl = (std::filesystem::temp_directory_path() / "kb-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return std::perror("mkdtemp"), 1;
    dir = tmpl;
  }
  // Figures from a RAM disk would flatter the index: say so.
  struct statfs fs {};
  constexpr long tmpfs_magic = 0x01021994;
  if (statfs(dir.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == tmpfs_magic)
    std::printf("warning: %s is on tmpfs, not disk; set TMPDIR to a disk directory\n", dir.c_str());
  std::printf("kb_search_bench: %zu entries, %zu searcher threads, %.1f s per run, %u hardware threads, "
              "facet_checkatleast %zu%s, index in %s\n",
              n, threads, seconds, std::thread::hardware_concurrency(), ranking.facet_checkatleast,
              ranking.facet_checkatleast ? "" : " (exact)", dir.c_str());

  synonyms syn({{"社保", "社会保险"},
                {"医保", "医疗保险", "基本医疗保险"},
                {"养老金", "退休金", "基本养老金"},
                {"社保卡", "社会保障卡"},
                {"失业金", "失业保险金"},
                {"工伤", "工伤保险"}});
  std::string error;
  auto writer = index_writer::open(dir, error);
  if (!writer) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  if (keep && writer->size() >= n) {
    std::printf("index:   reusing %zu documents in %s\n", writer->size(), dir.c_str());
  } else {
    writer->remove_all();
    prng r{42};
    auto t0 = clock_type::now();
    for (size_t i = 0; i < n; ++i) writer->upsert(make_entry(r, i));
    if (!writer->commit(error)) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
    double index_s = ms_since(t0) / 1000;
    std::printf("index:   %zu entries in %.2f s = %.0f entries/s (upsert + final commit; %zu documents)\n", n,
                index_s, n / index_s, writer->size());
  }

  // The server's searchers run on the in-memory index (KB_BENCH_ENGINE=xapian: on Xapian).
  std::shared_ptr<hot_index> hot;
  bool xapian_only = std::getenv("KB_BENCH_ENGINE") && std::string(std::getenv("KB_BENCH_ENGINE")) == "xapian";
  if (!xapian_only) {
    auto t_hot = clock_type::now();
    hot = writer->hot();
    std::printf("hot index: loaded %llu documents in %.2f s\n",
                static_cast<unsigned long long>(hot->snapshot()->documents()), ms_since(t_hot) / 1000);
    agreement(dir, ranking, syn, hot, 500);
  }
  std::printf("engine:  %s\n", xapian_only ? "xapian" : "hot (in memory)");

  // As the server searches: the searchers' requests queue for the pool's threads.
  std::unique_ptr<search_pool> pool;
  {
    std::vector<std::unique_ptr<index_reader>> readers;
    for (size_t i = 0; i < pool_threads; ++i) {
      readers.push_back(index_reader::open(dir, error, ranking, hot));
      if (!readers.back()) return std::fprintf(stderr, "reader: %s\n", error.c_str()), 1;
    }
    pool = std::make_unique<search_pool>(std::move(readers));
  }
  for (bool pooled : {true, false}) {
    std::vector<double> p50, p99, qps;
    for (uint64_t run = 1; run <= 3; ++run) {
      auto res = search_run(dir, ranking, syn, threads, seconds, run, hot, pooled ? pool.get() : nullptr);
      std::printf("search run %llu: %zu queries, %.0f q/s, p50 %.3f ms, p99 %.3f ms, mean %.3f ms, errors %zu\n",
                  static_cast<unsigned long long>(run), res.queries, res.qps, res.p50, res.p99, res.mean, res.errors);
      p50.push_back(res.p50);
      p99.push_back(res.p99);
      qps.push_back(res.qps);
    }
    if (pooled)
      std::printf("search over 3 runs (%zu searchers through a pool of %zu threads, as the server; filters + facets + "
                  "snippets):\n", threads, pool_threads);
    else
      std::printf("search over 3 runs (%zu searchers each on a thread of its own, time-sliced; filters + facets + "
                  "snippets):\n", threads);
    report("p50", p50, "ms");
    report("p99", p99, "ms");
    report("q/s", qps, "q/s");
  }
  pool.reset();

  if (std::getenv("KB_BENCH_SEARCH_ONLY")) return 0;
  auto reader = index_reader::open(dir, error, ranking, hot);
  if (!reader) return std::fprintf(stderr, "%s\n", error.c_str()), 1;
  auto pub = publish_latency(*writer, *reader, syn, 20);
  std::printf("publish-to-searchable over %zu publishes:\n", pub.size());
  report("latency", pub, "ms");

  writer.reset();
  reader.reset();
  std::error_code ec;
  if (!keep) std::filesystem::remove_all(dir, ec);
  return 0;
}

#include "media/prompt/library.hpp"

#include <speex/speex_resampler.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <numbers>
#include <optional>

#include "media/prompt/wav.hpp"

namespace hotline::prompt {

namespace {

constexpr int resampler_quality = 5;        // speexdsp 0-10: prompts are resampled once, at load
constexpr int16_t silence_threshold = 180;  // about -45 dBFS
constexpr size_t max_work_id_digits = 16;

std::optional<size_t> rate_index(uint32_t rate) {
  for (size_t i = 0; i < library_rates.size(); ++i)
    if (library_rates[i] == rate) return i;
  return std::nullopt;
}

prompt_error bad_rate(uint32_t rate) {
  return {errc::bad_argument, "prompt rate " + std::to_string(rate) + " Hz: the library has 8000, 16000 and 48000"};
}

}  // namespace

// ---- clip processing ------------------------------------------------------------------------

std::vector<int16_t> trim_silence(std::span<const int16_t> pcm, uint32_t rate, uint32_t margin_ms) {
  auto loud = [](int16_t s) { return std::abs(static_cast<int>(s)) > silence_threshold; };
  auto first = std::find_if(pcm.begin(), pcm.end(), loud);
  if (first == pcm.end()) return {};
  auto last = std::find_if(pcm.rbegin(), pcm.rend(), loud).base();  // one past the last loud sample
  const auto margin = static_cast<std::ptrdiff_t>(static_cast<uint64_t>(rate) * margin_ms / 1000);
  first = pcm.begin() + std::max<std::ptrdiff_t>(0, (first - pcm.begin()) - margin);
  last = pcm.begin() + std::min<std::ptrdiff_t>(std::ssize(pcm), (last - pcm.begin()) + margin);
  return {first, last};
}

std::vector<int16_t> resample_clip(std::span<const int16_t> in, uint32_t from_rate, uint32_t to_rate) {
  if (from_rate == to_rate || in.empty()) return {in.begin(), in.end()};
  const size_t expected = static_cast<size_t>(static_cast<uint64_t>(in.size()) * to_rate / from_rate);
  std::vector<int16_t> out(expected);
  int err = 0;
  SpeexResamplerState* st = speex_resampler_init(1, from_rate, to_rate, resampler_quality, &err);
  if (!st) return out;             // silence of the right length; cannot happen for our rates
  speex_resampler_skip_zeros(st);  // no leading run of filter-delay zeros
  size_t produced = 0;
  size_t consumed = 0;
  // The clip, then zeros until the filter's delay has come out: the tail is not cut.
  const std::vector<int16_t> zeros(static_cast<size_t>(speex_resampler_get_input_latency(st)) + 1);
  while (produced < expected) {
    const bool tail = consumed >= in.size();
    const int16_t* src = tail ? zeros.data() : in.data() + consumed;
    spx_uint32_t in_len = static_cast<spx_uint32_t>(tail ? zeros.size() : in.size() - consumed);
    spx_uint32_t out_len = static_cast<spx_uint32_t>(expected - produced);
    speex_resampler_process_int(st, 0, src, &in_len, out.data() + produced, &out_len);
    if (!tail) consumed += in_len;
    produced += out_len;
    if (tail && out_len == 0) break;
  }
  speex_resampler_destroy(st);
  return out;
}

std::vector<int16_t> synthesize_hold_music(uint32_t rate) {
  // C major pentatonic, 0.5 s beats, 16 beats = 8 s; every note decays to zero, so the
  // phrase loops without a click.
  struct note {
    double hz;
    int beats;
  };
  constexpr double C4 = 261.63, D4 = 293.66, E4 = 329.63, G4 = 392.00, A4 = 440.00;
  constexpr note phrase[] = {{E4, 1}, {G4, 1}, {A4, 1}, {G4, 1}, {E4, 2}, {D4, 1}, {C4, 1},
                             {D4, 1}, {E4, 1}, {G4, 2}, {E4, 1}, {D4, 1}, {C4, 2}};
  constexpr double beat_s = 0.5, attack_s = 0.02, release_s = 0.03, amplitude = 4000;  // about -18 dBFS
  std::vector<int16_t> out;
  for (const note& n : phrase) {
    const double dur = n.beats * beat_s;
    const auto samples = static_cast<size_t>(dur * rate);
    for (size_t i = 0; i < samples; ++i) {
      const double t = static_cast<double>(i) / rate;
      double env = std::min(1.0, t / attack_s) * std::exp(-3.0 * t / dur);
      env *= std::min(1.0, (dur - t) / release_s);
      const double w = 2 * std::numbers::pi * n.hz * t;
      out.push_back(static_cast<int16_t>(amplitude * env * (std::sin(w) + 0.3 * std::sin(2 * w)) / 1.3));
    }
  }
  return out;
}

// ---- the library ----------------------------------------------------------------------------

std::variant<prompt_library, prompt_error> prompt_library::load(const std::filesystem::path& dir,
                                                                std::span<const prompt_text> prompts) {
  prompt_library lib;
  std::vector<prompt_text> all(prompts.begin(), prompts.end());
  all.insert(all.end(), number_prompts().begin(), number_prompts().end());
  for (const auto& p : all) {
    if (lib.clips_.contains(p.name)) continue;
    const auto path = dir / (std::string(p.name) + ".wav");
    auto wav = read_wav(path);
    if (auto* e = std::get_if<prompt_error>(&wav)) {
      if (e->code == errc::missing_prompt) e->message += " (generate the prompts first: generate_prompts)";
      return std::move(*e);
    }
    const auto& source = std::get<mono_pcm>(wav);
    const auto trimmed = trim_silence(source.samples, source.rate);
    if (trimmed.empty()) return prompt_error{errc::bad_wav, path.string() + ": only silence"};
    clip_set set;
    for (size_t i = 0; i < library_rates.size(); ++i) set[i] = resample_clip(trimmed, source.rate, library_rates[i]);
    lib.clips_.emplace(std::string(p.name), std::move(set));
  }
  clip_set music;
  for (size_t i = 0; i < library_rates.size(); ++i) music[i] = synthesize_hold_music(library_rates[i]);
  lib.clips_.emplace(std::string(clip::hold_music), std::move(music));
  return lib;
}

std::span<const int16_t> prompt_library::clip(std::string_view name, uint32_t rate) const {
  auto r = rate_index(rate);
  auto it = clips_.find(name);
  if (!r || it == clips_.end()) return {};
  return it->second[*r];
}

bool prompt_library::contains(std::string_view name) const { return clips_.find(name) != clips_.end(); }

std::variant<std::vector<int16_t>, prompt_error> prompt_library::compose(std::span<const std::string_view> names,
                                                                         uint32_t rate, uint32_t gap_ms) const {
  auto r = rate_index(rate);
  if (!r) return bad_rate(rate);
  const size_t gap = static_cast<size_t>(static_cast<uint64_t>(rate) * gap_ms / 1000);
  size_t total = 0;
  for (auto name : names) {
    auto it = clips_.find(name);
    if (it == clips_.end()) return prompt_error{errc::unknown_clip, "no prompt clip named '" + std::string(name) + "'"};
    total += it->second[*r].size() + gap;
  }
  std::vector<int16_t> out;
  out.reserve(total);
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.insert(out.end(), gap, int16_t{0});
    const auto& pcm = clips_.find(names[i])->second[*r];
    out.insert(out.end(), pcm.begin(), pcm.end());
  }
  return out;
}

std::variant<std::vector<int16_t>, prompt_error> prompt_library::work_id_announcement(std::string_view work_id,
                                                                                      uint32_t rate,
                                                                                      bool with_closing) const {
  auto digits = digit_clips(work_id);
  if (work_id.empty() || work_id.size() > max_work_id_digits || digits.empty())
    return prompt_error{errc::bad_argument, "work id '" + std::string(work_id) + "': 1-16 digits"};
  std::vector<std::string_view> names{clip::work_id};
  names.insert(names.end(), digits.begin(), digits.end());
  if (with_closing) names.push_back(clip::work_id_closing);
  return compose(names, rate);
}

std::variant<std::vector<int16_t>, prompt_error> prompt_library::queue_position_announcement(uint32_t callers_ahead,
                                                                                             uint32_t rate) const {
  std::vector<std::string_view> names{clip::queue_position_before};
  auto count = count_clips(callers_ahead);
  names.insert(names.end(), count.begin(), count.end());
  names.push_back(clip::queue_position_after);
  return compose(names, rate);
}

std::variant<std::vector<int16_t>, prompt_error> prompt_library::expected_wait_announcement(uint32_t minutes,
                                                                                            uint32_t rate) const {
  std::vector<std::string_view> names{clip::expected_wait_before};
  auto count = count_clips(std::max(1u, minutes));  // "约零分钟" says nothing useful
  names.insert(names.end(), count.begin(), count.end());
  names.push_back(clip::expected_wait_after);
  return compose(names, rate);
}

std::variant<std::vector<int16_t>, prompt_error> prompt_library::after_hours_announcement(uint32_t open_hour,
                                                                                          uint32_t close_hour,
                                                                                          uint32_t rate) const {
  if (open_hour > 24 || close_hour > 24)
    return prompt_error{errc::bad_argument, "service hours " + std::to_string(open_hour) + "-" +
                                                std::to_string(close_hour) + ": hours are 0-24"};
  std::vector<std::string_view> names{clip::after_hours_intro};
  auto from = count_clips(open_hour);
  names.insert(names.end(), from.begin(), from.end());
  names.push_back(clip::hours_from_to);
  auto to = count_clips(close_hour);
  names.insert(names.end(), to.begin(), to.end());
  names.push_back(clip::hours_end);
  auto sentence = compose(names, rate);
  auto* first = std::get_if<std::vector<int16_t>>(&sentence);
  if (!first) return sentence;
  const std::string_view options[] = {clip::after_hours_options};
  auto rest = compose(options, rate);
  auto* second = std::get_if<std::vector<int16_t>>(&rest);
  if (!second) return rest;
  first->insert(first->end(), static_cast<size_t>(static_cast<uint64_t>(rate) * sentence_gap_ms / 1000), int16_t{0});
  first->insert(first->end(), second->begin(), second->end());
  return sentence;
}

}  // namespace hotline::prompt

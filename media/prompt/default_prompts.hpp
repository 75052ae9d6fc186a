#pragma once
// What the 12333 IVR says, in one table (default_prompts.cpp): the greeting, the menu of
// topics, input errors, queue position and expected wait, after hours (N-01), the work-id
// announcement (N-05), the satisfaction survey (N-16). Each prompt is a name (its file is
// <name>.wav in the prompt directory) and the Mandarin text espeak-ng speaks at setup.
// Announcements with a number in them are built from clips: the number prompts below.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace hotline::prompt {

struct prompt_text {
  std::string_view name;  // [a-z0-9_]+: a file name
  std::string_view text;
};

// The IVR's sentences and sentence pieces.
std::span<const prompt_text> default_prompts();
// The clips numbers are said with: digit_0..digit_9 read one by one (work ids; 1 is 幺),
// "工号", and what counting adds (一, 两, 十, 百). generate_prompts always makes these
// and prompt_library always loads them.
std::span<const prompt_text> number_prompts();

// The IVR menu (N-07 topics): which key picks which topic. The menu prompt says them.
struct menu_topic {
  char key;                 // '0'-'9'
  std::string_view id;      // "pension", as the routing and the call record name it
  std::string_view spoken;  // "养老保险", as the menu prompt says it
};
std::span<const menu_topic> menu_topics();

// Names the code composes announcements from (all in the tables above).
namespace clip {
inline constexpr std::string_view greeting = "greeting";
inline constexpr std::string_view menu = "menu";
inline constexpr std::string_view invalid_input = "invalid_input";
inline constexpr std::string_view no_input = "no_input";
inline constexpr std::string_view transfer = "transfer";
inline constexpr std::string_view all_agents_busy = "all_agents_busy";
inline constexpr std::string_view queue_position_before = "queue_position_before";
inline constexpr std::string_view queue_position_after = "queue_position_after";
inline constexpr std::string_view expected_wait_before = "expected_wait_before";
inline constexpr std::string_view expected_wait_after = "expected_wait_after";
inline constexpr std::string_view after_hours_intro = "after_hours_intro";
inline constexpr std::string_view hours_from_to = "hours_from_to";
inline constexpr std::string_view hours_end = "hours_end";
inline constexpr std::string_view after_hours_options = "after_hours_options";
inline constexpr std::string_view callback_recorded = "callback_recorded";
inline constexpr std::string_view survey = "survey";
inline constexpr std::string_view survey_thanks = "survey_thanks";
inline constexpr std::string_view goodbye = "goodbye";
inline constexpr std::string_view work_id = "work_id";
inline constexpr std::string_view work_id_closing = "work_id_closing";
inline constexpr std::string_view hold_music = "hold_music";  // synthesized, not spoken
}  // namespace clip

// The clips that say each digit of `digits` in turn ("1023" -> 幺 零 二 三); empty when
// a character is not 0-9.
std::vector<std::string_view> digit_clips(std::string_view digits);
// The clips that say a count the way Mandarin counts: 2 -> 两, 12 -> 十二, 23 -> 二十三,
// 105 -> 一百零五, 250 -> 两百五十. Counts above 999 are said as 999.
std::vector<std::string_view> count_clips(uint32_t n);

}  // namespace hotline::prompt

#include "media/prompt/default_prompts.hpp"

#include <array>

namespace hotline::prompt {

namespace {

// Written with Chinese numerals, not Arabic digits: espeak-ng reads "12333" as a
// quantity (一万两千...), and a service number is said digit by digit with 1 as 幺.
// Hours and counts are composed from number clips, so a site's own hours (N-01) and the
// live queue figures need no new recording.
constexpr std::array prompts{
    prompt_text{"greeting", "您好，欢迎致电幺二三三三人力资源和社会保障服务热线。"},
    prompt_text{"menu",
                "养老保险请按一；医疗保险请按二；失业保险请按三；工伤保险请按四；就业服务请按五；"
                "劳动关系请按六；社保卡业务请按七；人事人才请按八；投诉举报请按九；其他问题请按零。"
                "重听请按星号键。"},
    prompt_text{"invalid_input", "对不起，您的输入有误，请重新输入。"},
    prompt_text{"no_input", "对不起，没有收到您的按键，请重新选择。"},
    prompt_text{"transfer", "正在为您转接人工服务，请稍候。"},
    prompt_text{"all_agents_busy", "现在座席全忙，请您耐心等待。"},
    // "您前面还有 <N> 位来电在等待，请耐心等候。"
    prompt_text{"queue_position_before", "您前面还有"},
    prompt_text{"queue_position_after", "位来电在等待，请耐心等候。"},
    // "预计等待时间约 <N> 分钟。"
    prompt_text{"expected_wait_before", "预计等待时间约"},
    prompt_text{"expected_wait_after", "分钟。"},
    // N-01: "…人工服务时间为每天 <8> 点至 <21> 点。" then what the caller can do now.
    prompt_text{"after_hours_intro", "您好，现在是非人工服务时间。人工服务时间为每天"},
    prompt_text{"hours_from_to", "点至"},
    prompt_text{"hours_end", "点。"},
    prompt_text{"after_hours_options", "自助查询请按一；留下您的电话号码，等候我们回电，请按二。"},
    prompt_text{"callback_recorded", "您的回电请求已经登记，我们将在人工服务时间内尽快与您联系。"},
    // N-17: a callback names the centre before the agent speaks.
    prompt_text{"callback_greeting", "您好，这里是一二三三三人力资源和社会保障电话咨询服务中心，根据您的回电请求给您回电。"},
    // N-16: after the agent releases, a keypad survey.
    prompt_text{"survey", "请您对本次服务做出评价：满意请按一，基本满意请按二，不满意请按三。"},
    prompt_text{"survey_thanks", "感谢您的评价，再见。"},
    prompt_text{"goodbye", "感谢您的来电，再见。"},
    // N-05: "工号 <1 0 2 4> 为您服务，请讲。"
    prompt_text{"work_id_closing", "为您服务，请讲。"},
};

constexpr std::array numbers{
    prompt_text{"digit_0", "零"}, prompt_text{"digit_1", "幺"}, prompt_text{"digit_2", "二"},
    prompt_text{"digit_3", "三"}, prompt_text{"digit_4", "四"}, prompt_text{"digit_5", "五"},
    prompt_text{"digit_6", "六"}, prompt_text{"digit_7", "七"}, prompt_text{"digit_8", "八"},
    prompt_text{"digit_9", "九"}, prompt_text{"work_id", "工号"},
    prompt_text{"count_one", "一"},  // counting says 一, not the 幺 of digit strings
    prompt_text{"count_two", "两"},  // 两位, 两百; but 十二, 二十 keep 二
    prompt_text{"count_ten", "十"}, prompt_text{"count_hundred", "百"},
};

constexpr std::array topics{
    menu_topic{'1', "pension", "养老保险"},
    menu_topic{'2', "medical", "医疗保险"},
    menu_topic{'3', "unemployment", "失业保险"},
    menu_topic{'4', "work_injury", "工伤保险"},
    menu_topic{'5', "employment", "就业"},
    menu_topic{'6', "labour_relations", "劳动关系"},
    menu_topic{'7', "social_security_card", "社保卡"},
    menu_topic{'8', "personnel", "人事人才"},
    menu_topic{'9', "complaint", "投诉举报"},
    menu_topic{'0', "other", "其他"},
};

constexpr std::array<std::string_view, 10> digit_names{"digit_0", "digit_1", "digit_2", "digit_3", "digit_4",
                                                      "digit_5", "digit_6", "digit_7", "digit_8", "digit_9"};

// A digit inside a count: 1 is 一 (十一, 一百), every other digit as read alone.
std::string_view counting_digit(uint32_t d) { return d == 1 ? "count_one" : digit_names[d]; }

}  // namespace

std::span<const prompt_text> default_prompts() { return prompts; }
std::span<const prompt_text> number_prompts() { return numbers; }
std::span<const menu_topic> menu_topics() { return topics; }

std::vector<std::string_view> digit_clips(std::string_view digits) {
  std::vector<std::string_view> out;
  for (char c : digits) {
    if (c < '0' || c > '9') return {};
    out.push_back(digit_names[static_cast<size_t>(c - '0')]);
  }
  return out;
}

std::vector<std::string_view> count_clips(uint32_t n) {
  if (n > 999) n = 999;
  if (n == 2) return {"count_two"};
  if (n < 10) return {counting_digit(n)};
  std::vector<std::string_view> out;
  const uint32_t hundreds = n / 100, tens = n / 10 % 10, ones = n % 10;
  if (hundreds > 0) {
    out.push_back(hundreds == 2 ? "count_two" : counting_digit(hundreds));
    out.push_back("count_hundred");
    if (tens == 0 && ones != 0) out.push_back(digit_names[0]);  // 一百零五
  }
  // 十二 alone, but 一百一十二 inside a larger count.
  if (tens > 0) {
    if (tens > 1 || hundreds > 0) out.push_back(counting_digit(tens));
    out.push_back("count_ten");
  }
  if (ones > 0) out.push_back(counting_digit(ones));
  return out;
}

}  // namespace hotline::prompt

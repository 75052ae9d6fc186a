#include "api/app/kb_seed.hpp"

// .incbin keeps half a megabyte of text out of the compiler: the assembler copies it.
__asm__(".section .rodata\n"
        ".balign 16\n"
        "hotline_kb_seed_entries:\n"
        ".incbin \"" KB_SEED_ENTRIES "\"\n"
        "hotline_kb_seed_entries_end:\n"
        ".byte 0\n"
        ".balign 16\n"
        "hotline_kb_seed_synonyms:\n"
        ".incbin \"" KB_SEED_SYNONYMS "\"\n"
        "hotline_kb_seed_synonyms_end:\n"
        ".byte 0\n"
        ".previous\n");

extern "C" const char hotline_kb_seed_entries[], hotline_kb_seed_entries_end[];
extern "C" const char hotline_kb_seed_synonyms[], hotline_kb_seed_synonyms_end[];

namespace hotline::app {

std::string_view kb_seed_entries_jsonl() {
  return {hotline_kb_seed_entries, static_cast<size_t>(hotline_kb_seed_entries_end - hotline_kb_seed_entries)};
}

std::string_view kb_seed_synonyms_json() {
  return {hotline_kb_seed_synonyms, static_cast<size_t>(hotline_kb_seed_synonyms_end - hotline_kb_seed_synonyms)};
}

}  // namespace hotline::app

#pragma once
// Rule-based word tokenizer/detokenizer for German and English (design §1, seed preset).
#include <string>
#include <string_view>
#include <vector>

namespace nmt::text {

// German and English have rules of their own (clitics, abbreviations, hyphens); any other
// language gets the language-neutral rules (punctuation split off, words kept whole).
enum class Lang { De, En, Other };
// "de" / "en" / any other code of letters, digits, '-', '_'; throws nmt::Error on a bad code.
Lang lang_from_code(std::string_view code);

// UTF-8 aware lowercasing (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic; ß stays).
std::string to_lower(std::string_view s);

// Splits one line into word tokens; lowercases (UTF-8 aware: Ä→ä, ß stays) when asked.
// split_hyphens: hyphens inside words become tokens of their own where spaCy's rules split them
// (the seed's tokenizer): English between letters (`t-shirt` -> `t - shirt`) and, in both
// languages, between digits (`2-3`); German compounds stay whole (`t-shirt`, `3-jähriger`).
// Without it every hyphenated word is one token (models trained before this option).
// Input must be valid UTF-8 (corpus reader checks it).
std::vector<std::string> tokenize(std::string_view line, Lang lang, bool lowercase = true,
                                  bool split_hyphens = true);

// Inverse of tokenize for display: joins tokens with spaces, no space before . , ! ? : ; ) etc.
// split_hyphens (as tokenize's): a "-" between two words is glued to both (`t-shirt`).
std::string detokenize(const std::vector<std::string>& tokens, Lang lang,
                       bool split_hyphens = true);

}  // namespace nmt::text

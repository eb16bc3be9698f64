#pragma once
// Rule-based word tokenizer/detokenizer for German and English (design §1, seed preset).
#include <string>
#include <string_view>
#include <vector>

namespace nmt::text {

enum class Lang { De, En };
Lang lang_from_code(std::string_view code);  // "de" / "en"; throws nmt::Error otherwise

// UTF-8 aware lowercasing (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic; ß stays).
std::string to_lower(std::string_view s);

// Splits one line into word tokens; lowercases (UTF-8 aware: Ä→ä, ß stays) when asked.
// Input must be valid UTF-8 (corpus reader checks it).
std::vector<std::string> tokenize(std::string_view line, Lang lang, bool lowercase = true);

// Inverse of tokenize for display: joins tokens with spaces, no space before . , ! ? : ; ) etc.
std::string detokenize(const std::vector<std::string>& tokens, Lang lang);

}  // namespace nmt::text

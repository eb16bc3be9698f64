// sacreBLEU-compatible corpus BLEU: a port of sacreBLEU 2.x's Tokenizer13a / TokenizerRegexp,
// BLEU._preprocess_segment, extract_all_word_ngrams and BLEU.compute_bleu (see bleu.h).
#include "eval/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "text/utf8.h"

namespace nmt::eval {
namespace {

// ---------------------------------------------------------------------------------------------
// UTF-8: invalid sequences decode as one opaque byte (length 1, valid = false).
using text::append_utf8;
using Decoded = text::Utf8Char;
Decoded decode(std::string_view s, size_t i) { return text::decode_utf8(s, i); }

// Python's str.isspace(): what str.split() and str.rstrip() (no arguments) treat as whitespace.
bool is_space(char32_t c) {
  if (c < 0x80) return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Python's str.rstrip().
std::string_view rstrip(std::string_view s) {
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    const Decoded d = decode(s, i);
    i += d.len;
    if (!(d.valid && is_space(d.cp))) end = i;
  }
  return s.substr(0, end);
}

// Python's str.split() (no arguments).
std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = std::string_view::npos;
  for (size_t i = 0; i < s.size();) {
    const Decoded d = decode(s, i);
    if (d.valid && is_space(d.cp)) {
      if (start != std::string_view::npos) out.push_back(s.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += d.len;
  }
  if (start != std::string_view::npos) out.push_back(s.substr(start));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lowercasing: Python's str.lower(). Simple mappings as runs {first, last, delta, step}: every
// step-th code point from first to last maps to itself + delta. Generated from Python 3.11
// (Unicode 14.0) str.lower() over all code points; U+0130 (→ "i̇") and capital sigma (final sigma
// context) are special-cased below.

struct CaseRun {
  char32_t first, last;
  int32_t delta;
  int32_t step;
};

constexpr CaseRun kLowerRuns[] = {
    {0x0041, 0x005A, 32, 1},     {0x00C0, 0x00D6, 32, 1},     {0x00D8, 0x00DE, 32, 1},
    {0x0100, 0x012E, 1, 2},      {0x0132, 0x0136, 1, 2},      {0x0139, 0x0147, 1, 2},
    {0x014A, 0x0176, 1, 2},      {0x0178, 0x0178, -121, 1},   {0x0179, 0x017D, 1, 2},
    {0x0181, 0x0181, 210, 1},    {0x0182, 0x0184, 1, 2},      {0x0186, 0x0186, 206, 1},
    {0x0187, 0x0187, 1, 1},      {0x0189, 0x018A, 205, 1},    {0x018B, 0x018B, 1, 1},
    {0x018E, 0x018E, 79, 1},     {0x018F, 0x018F, 202, 1},    {0x0190, 0x0190, 203, 1},
    {0x0191, 0x0191, 1, 1},      {0x0193, 0x0193, 205, 1},    {0x0194, 0x0194, 207, 1},
    {0x0196, 0x0196, 211, 1},    {0x0197, 0x0197, 209, 1},    {0x0198, 0x0198, 1, 1},
    {0x019C, 0x019C, 211, 1},    {0x019D, 0x019D, 213, 1},    {0x019F, 0x019F, 214, 1},
    {0x01A0, 0x01A4, 1, 2},      {0x01A6, 0x01A6, 218, 1},    {0x01A7, 0x01A7, 1, 1},
    {0x01A9, 0x01A9, 218, 1},    {0x01AC, 0x01AC, 1, 1},      {0x01AE, 0x01AE, 218, 1},
    {0x01AF, 0x01AF, 1, 1},      {0x01B1, 0x01B2, 217, 1},    {0x01B3, 0x01B5, 1, 2},
    {0x01B7, 0x01B7, 219, 1},    {0x01B8, 0x01B8, 1, 1},      {0x01BC, 0x01BC, 1, 1},
    {0x01C4, 0x01C4, 2, 1},      {0x01C5, 0x01C5, 1, 1},      {0x01C7, 0x01C7, 2, 1},
    {0x01C8, 0x01C8, 1, 1},      {0x01CA, 0x01CA, 2, 1},      {0x01CB, 0x01DB, 1, 2},
    {0x01DE, 0x01EE, 1, 2},      {0x01F1, 0x01F1, 2, 1},      {0x01F2, 0x01F4, 1, 2},
    {0x01F6, 0x01F6, -97, 1},    {0x01F7, 0x01F7, -56, 1},    {0x01F8, 0x021E, 1, 2},
    {0x0220, 0x0220, -130, 1},   {0x0222, 0x0232, 1, 2},      {0x023A, 0x023A, 10795, 1},
    {0x023B, 0x023B, 1, 1},      {0x023D, 0x023D, -163, 1},   {0x023E, 0x023E, 10792, 1},
    {0x0241, 0x0241, 1, 1},      {0x0243, 0x0243, -195, 1},   {0x0244, 0x0244, 69, 1},
    {0x0245, 0x0245, 71, 1},     {0x0246, 0x024E, 1, 2},      {0x0370, 0x0372, 1, 2},
    {0x0376, 0x0376, 1, 1},      {0x037F, 0x037F, 116, 1},    {0x0386, 0x0386, 38, 1},
    {0x0388, 0x038A, 37, 1},     {0x038C, 0x038C, 64, 1},     {0x038E, 0x038F, 63, 1},
    {0x0391, 0x03A1, 32, 1},     {0x03A3, 0x03AB, 32, 1},     {0x03CF, 0x03CF, 8, 1},
    {0x03D8, 0x03EE, 1, 2},      {0x03F4, 0x03F4, -60, 1},    {0x03F7, 0x03F7, 1, 1},
    {0x03F9, 0x03F9, -7, 1},     {0x03FA, 0x03FA, 1, 1},      {0x03FD, 0x03FF, -130, 1},
    {0x0400, 0x040F, 80, 1},     {0x0410, 0x042F, 32, 1},     {0x0460, 0x0480, 1, 2},
    {0x048A, 0x04BE, 1, 2},      {0x04C0, 0x04C0, 15, 1},     {0x04C1, 0x04CD, 1, 2},
    {0x04D0, 0x052E, 1, 2},      {0x0531, 0x0556, 48, 1},     {0x10A0, 0x10C5, 7264, 1},
    {0x10C7, 0x10C7, 7264, 1},   {0x10CD, 0x10CD, 7264, 1},   {0x13A0, 0x13EF, 38864, 1},
    {0x13F0, 0x13F5, 8, 1},      {0x1C90, 0x1CBA, -3008, 1},  {0x1CBD, 0x1CBF, -3008, 1},
    {0x1E00, 0x1E94, 1, 2},      {0x1E9E, 0x1E9E, -7615, 1},  {0x1EA0, 0x1EFE, 1, 2},
    {0x1F08, 0x1F0F, -8, 1},     {0x1F18, 0x1F1D, -8, 1},     {0x1F28, 0x1F2F, -8, 1},
    {0x1F38, 0x1F3F, -8, 1},     {0x1F48, 0x1F4D, -8, 1},     {0x1F59, 0x1F5F, -8, 2},
    {0x1F68, 0x1F6F, -8, 1},     {0x1F88, 0x1F8F, -8, 1},     {0x1F98, 0x1F9F, -8, 1},
    {0x1FA8, 0x1FAF, -8, 1},     {0x1FB8, 0x1FB9, -8, 1},     {0x1FBA, 0x1FBB, -74, 1},
    {0x1FBC, 0x1FBC, -9, 1},     {0x1FC8, 0x1FCB, -86, 1},    {0x1FCC, 0x1FCC, -9, 1},
    {0x1FD8, 0x1FD9, -8, 1},     {0x1FDA, 0x1FDB, -100, 1},   {0x1FE8, 0x1FE9, -8, 1},
    {0x1FEA, 0x1FEB, -112, 1},   {0x1FEC, 0x1FEC, -7, 1},     {0x1FF8, 0x1FF9, -128, 1},
    {0x1FFA, 0x1FFB, -126, 1},   {0x1FFC, 0x1FFC, -9, 1},     {0x2126, 0x2126, -7517, 1},
    {0x212A, 0x212A, -8383, 1},  {0x212B, 0x212B, -8262, 1},  {0x2132, 0x2132, 28, 1},
    {0x2160, 0x216F, 16, 1},     {0x2183, 0x2183, 1, 1},      {0x24B6, 0x24CF, 26, 1},
    {0x2C00, 0x2C2F, 48, 1},     {0x2C60, 0x2C60, 1, 1},      {0x2C62, 0x2C62, -10743, 1},
    {0x2C63, 0x2C63, -3814, 1},  {0x2C64, 0x2C64, -10727, 1}, {0x2C67, 0x2C6B, 1, 2},
    {0x2C6D, 0x2C6D, -10780, 1}, {0x2C6E, 0x2C6E, -10749, 1}, {0x2C6F, 0x2C6F, -10783, 1},
    {0x2C70, 0x2C70, -10782, 1}, {0x2C72, 0x2C72, 1, 1},      {0x2C75, 0x2C75, 1, 1},
    {0x2C7E, 0x2C7F, -10815, 1}, {0x2C80, 0x2CE2, 1, 2},      {0x2CEB, 0x2CED, 1, 2},
    {0x2CF2, 0x2CF2, 1, 1},      {0xA640, 0xA66C, 1, 2},      {0xA680, 0xA69A, 1, 2},
    {0xA722, 0xA72E, 1, 2},      {0xA732, 0xA76E, 1, 2},      {0xA779, 0xA77B, 1, 2},
    {0xA77D, 0xA77D, -35332, 1}, {0xA77E, 0xA786, 1, 2},      {0xA78B, 0xA78B, 1, 1},
    {0xA78D, 0xA78D, -42280, 1}, {0xA790, 0xA792, 1, 2},      {0xA796, 0xA7A8, 1, 2},
    {0xA7AA, 0xA7AA, -42308, 1}, {0xA7AB, 0xA7AB, -42319, 1}, {0xA7AC, 0xA7AC, -42315, 1},
    {0xA7AD, 0xA7AD, -42305, 1}, {0xA7AE, 0xA7AE, -42308, 1}, {0xA7B0, 0xA7B0, -42258, 1},
    {0xA7B1, 0xA7B1, -42282, 1}, {0xA7B2, 0xA7B2, -42261, 1}, {0xA7B3, 0xA7B3, 928, 1},
    {0xA7B4, 0xA7C2, 1, 2},      {0xA7C4, 0xA7C4, -48, 1},    {0xA7C5, 0xA7C5, -42307, 1},
    {0xA7C6, 0xA7C6, -35384, 1}, {0xA7C7, 0xA7C9, 1, 2},      {0xA7D0, 0xA7D0, 1, 1},
    {0xA7D6, 0xA7D8, 1, 2},      {0xA7F5, 0xA7F5, 1, 1},      {0xFF21, 0xFF3A, 32, 1},
    {0x10400, 0x10427, 40, 1},   {0x104B0, 0x104D3, 40, 1},   {0x10570, 0x1057A, 39, 1},
    {0x1057C, 0x1058A, 39, 1},   {0x1058C, 0x10592, 39, 1},   {0x10594, 0x10595, 39, 1},
    {0x10C80, 0x10CB2, 64, 1},   {0x118A0, 0x118BF, 32, 1},   {0x16E40, 0x16E5F, 32, 1},
    {0x1E900, 0x1E921, 34, 1}};

char32_t simple_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  auto it = std::upper_bound(std::begin(kLowerRuns), std::end(kLowerRuns), c,
                             [](char32_t v, const CaseRun& r) { return v < r.first; });
  if (it == std::begin(kLowerRuns)) return c;
  --it;
  if (c > it->last || (c - it->first) % it->step != 0) return c;
  return static_cast<char32_t>(static_cast<int32_t>(c) + it->delta);
}

// Approximations of Unicode's Cased and Case_Ignorable properties, used only to decide the final
// sigma context: cased = has a lowercase mapping or is the lowercase mapping of something.
bool is_cased(char32_t c) {
  if (c == 0x130 || simple_lower(c) != c) return true;
  for (const CaseRun& r : kLowerRuns) {
    const int64_t src = static_cast<int64_t>(c) - r.delta;
    if (src >= r.first && src <= r.last && (src - r.first) % r.step == 0) return true;
  }
  return false;
}

bool is_case_ignorable(char32_t c) {
  return c == '\'' || c == '.' || c == ':' || c == '^' || c == '`' || c == 0xA8 || c == 0xAD ||
         c == 0xAF || c == 0xB4 || c == 0xB7 || c == 0xB8 || (c >= 0x2B0 && c <= 0x36F) ||
         (c >= 0x200B && c <= 0x200F) || c == 0x2018 || c == 0x2019 || c == 0x2024 || c == 0x2027;
}

// ---------------------------------------------------------------------------------------------
// 13a tokenization.

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out += to;
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_period_comma(char c) { return c == '.' || c == ','; }

// [\{-\~\[-\` -\&\(-\+\:-\@\/]: every ASCII symbol except ' , - . and the digits / letters.
bool is_13a_symbol(char c) {
  return (c >= '{' && c <= '~') || (c >= '[' && c <= '`') || (c >= ' ' && c <= '&') ||
         (c >= '(' && c <= '+') || (c >= ':' && c <= '@') || c == '/';
}

// re.sub for a two-character pattern (first, second) whose replacement is `a \1 b \2 c` with the
// given separators: scan left to right, non-overlapping. On UTF-8 bytes this equals Python's
// code-point scan because both classes are ASCII or the complement of an ASCII class.
template <class P1, class P2>
std::string sub_pair(const std::string& s, P1 first, P2 second, const char* before1,
                     const char* between, const char* after2) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out += before1;
      out += s[i];
      out += between;
      out += s[i + 1];
      out += after2;
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string join(const std::vector<std::string_view>& toks) {
  std::string out;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (i) out += ' ';
    out += toks[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Statistics.

using NgramCounts = std::unordered_map<std::string, long>;

// All n-grams of orders 1..max_order (tokens joined by ' '), and the token count.
NgramCounts extract_ngrams(const std::vector<std::string_view>& toks, int max_order) {
  NgramCounts counts;
  for (int n = 1; n <= max_order; ++n) {
    for (size_t i = 0; i + n <= toks.size(); ++i) {
      std::string key(toks[i]);
      for (int k = 1; k < n; ++k) {
        key += ' ';
        key += toks[i + k];
      }
      ++counts[key];
    }
  }
  return counts;
}

std::string preprocess(std::string_view sent, const BleuOptions& o) {
  std::string s = o.lowercase ? lowercase_utf8(sent) : std::string(sent);
  s = std::string(rstrip(s));
  return o.tokenize_13a ? tokenize_13a(s) : s;
}

double my_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

}  // namespace

std::string lowercase_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Decoded d = decode(s, i);
    if (!d.valid) {
      out += s[i];
    } else if (d.cp < 0x80) {
      out += static_cast<char>(simple_lower(d.cp));
    } else if (d.cp == 0x130) {  // İ → i + combining dot above
      out += "i\xCC\x87";
    } else if (d.cp == 0x3A3) {  // Σ: ς in the final sigma context, else σ
      // Preceded by a cased letter (skipping case-ignorables) and not followed by one.
      bool final_sigma = false;
      for (size_t j = i; j > 0;) {
        size_t k = j - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        const Decoded p = decode(s, k);
        if (k + p.len != j) break;  // invalid bytes: not cased
        if (!is_case_ignorable(p.cp)) {
          final_sigma = is_cased(p.cp);
          break;
        }
        j = k;
      }
      if (final_sigma) {
        for (size_t j = i + d.len; j < s.size();) {
          const Decoded n = decode(s, j);
          if (!n.valid) break;
          if (!is_case_ignorable(n.cp)) {
            final_sigma = !is_cased(n.cp);
            break;
          }
          j += n.len;
        }
      }
      append_utf8(out, final_sigma ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, simple_lower(d.cp));
    }
    i += d.len;
  }
  return out;
}

std::string tokenize_13a(std::string_view input) {
  // Tokenizer13a: language-independent part.
  std::string line(input);
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }
  // TokenizerRegexp on f' {line} '.
  line = " " + line + " ";
  std::string s;
  s.reserve(line.size() * 2);
  for (char c : line) {
    if (is_13a_symbol(c)) {  // ([\{-\~\[-\` -\&\(-\+\:-\@\/]) → ' \1 '
      s += ' ';
      s += c;
      s += ' ';
    } else {
      s += c;
    }
  }
  // ([^0-9])([\.,]) → '\1 \2 ': period and comma unless preceded by a digit.
  s = sub_pair(
      s, [](char c) { return !is_digit(c); }, is_period_comma, "", " ", " ");
  // ([\.,])([^0-9]) → ' \1 \2': period and comma unless followed by a digit.
  s = sub_pair(
      s, is_period_comma, [](char c) { return !is_digit(c); }, " ", " ", "");
  // ([0-9])(-) → '\1 \2 ': dash preceded by a digit.
  s = sub_pair(
      s, is_digit, [](char c) { return c == '-'; }, "", " ", " ");
  return join(split_ws(s));
}

BleuStats compute_bleu(const std::vector<long>& matches, const std::vector<long>& totals,
                       long sys_len, long ref_len, const BleuOptions& o) {
  const int max_order = o.max_order;
  if (max_order < 1 || matches.size() != static_cast<size_t>(max_order) ||
      totals.size() != static_cast<size_t>(max_order))
    throw Error("compute_bleu: need max_order (" + std::to_string(max_order) +
                ") match and total counts");
  double smooth_value = o.smooth_value;
  if (smooth_value < 0) smooth_value = o.smooth == Smooth::AddK ? 1.0 : 0.1;

  BleuStats r;
  r.matches = matches;
  r.totals = totals;
  r.sys_len = sys_len;
  r.ref_len = ref_len;
  r.ratio = ref_len ? static_cast<double>(sys_len) / static_cast<double>(ref_len) : 0.0;
  r.bp = 1.0;
  if (sys_len < ref_len)
    r.bp = sys_len > 0 ? std::exp(1.0 - static_cast<double>(ref_len) / static_cast<double>(sys_len))
                       : 0.0;
  r.precisions.assign(max_order, 0.0);
  r.bleu = 0.0;
  // Early stop if there are no matches (sacreBLEU #141).
  if (std::all_of(matches.begin(), matches.end(), [](long m) { return m == 0; })) return r;

  double smooth_mteval = 1.0;
  int eff_order = max_order;
  for (int n = 1; n <= max_order; ++n) {
    double correct = static_cast<double>(matches[n - 1]);
    double total = static_cast<double>(totals[n - 1]);
    if (o.smooth == Smooth::AddK && n > 1) {
      correct += smooth_value;
      total += smooth_value;
    }
    if (total == 0) break;
    if (o.effective_order) eff_order = n;
    double& p = r.precisions[n - 1];
    if (correct == 0) {
      if (o.smooth == Smooth::Exp) {
        smooth_mteval *= 2;
        p = 100.0 / (smooth_mteval * total);
      } else if (o.smooth == Smooth::Floor) {
        p = 100.0 * smooth_value / total;
      }
    } else {
      p = 100.0 * correct / total;
    }
  }
  double log_sum = 0.0;
  for (int n = 0; n < eff_order; ++n) log_sum += my_log(r.precisions[n]);
  r.bleu = r.bp * std::exp(log_sum / eff_order);
  return r;
}

BleuStats corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& ref_streams,
                      const BleuOptions& o) {
  if (ref_streams.empty()) throw Error("BLEU: no references");
  if (o.max_order < 1) throw Error("BLEU: max_order must be at least 1");
  for (const auto& stream : ref_streams)
    if (stream.size() != hyps.size())
      throw Error("BLEU: " + std::to_string(hyps.size()) + " hypotheses but " +
                  std::to_string(stream.size()) + " references");

  const size_t N = static_cast<size_t>(o.max_order);
  std::vector<long> matches(N, 0), totals(N, 0);
  long sys_len = 0, ref_len = 0;
  for (size_t i = 0; i < hyps.size(); ++i) {
    // References: n-gram counts merged by max, and their lengths.
    NgramCounts ref_ngrams;
    std::vector<long> ref_lens;
    for (const auto& stream : ref_streams) {
      const std::string ref = preprocess(stream[i], o);
      const auto toks = split_ws(ref);
      ref_lens.push_back(static_cast<long>(toks.size()));
      for (auto& [ngram, count] : extract_ngrams(toks, o.max_order)) {
        long& slot = ref_ngrams[ngram];
        slot = std::max(slot, count);
      }
    }
    const std::string hyp = preprocess(hyps[i], o);
    const auto toks = split_ws(hyp);
    const long hyp_len = static_cast<long>(toks.size());
    // Closest reference length; ties go to the shorter one.
    long closest_diff = -1, closest_len = -1;
    for (long len : ref_lens) {
      const long diff = std::labs(hyp_len - len);
      if (closest_diff == -1 || diff < closest_diff) {
        closest_diff = diff;
        closest_len = len;
      } else if (diff == closest_diff && len < closest_len) {
        closest_len = len;
      }
    }
    sys_len += hyp_len;
    ref_len += closest_len;
    for (const auto& [ngram, count] : extract_ngrams(toks, o.max_order)) {
      const size_t n = static_cast<size_t>(std::count(ngram.begin(), ngram.end(), ' '));
      totals[n] += count;
      auto it = ref_ngrams.find(ngram);
      if (it != ref_ngrams.end()) matches[n] += std::min(count, it->second);
    }
  }
  return compute_bleu(matches, totals, sys_len, ref_len, o);
}

BleuStats corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                      bool lowercase, bool tokenize_13a) {
  BleuOptions o;
  o.lowercase = lowercase;
  o.tokenize_13a = tokenize_13a;
  return corpus_bleu(hyps, std::vector<std::vector<std::string>>{refs}, o);
}

std::string bleu_json(const BleuStats& s) {
  nlohmann::ordered_json j;
  j["bleu"] = s.bleu;
  j["precisions"] = s.precisions;
  j["bp"] = s.bp;
  j["ratio"] = s.ratio;
  j["sys_len"] = s.sys_len;
  j["ref_len"] = s.ref_len;
  return j.dump();
}

}  // namespace nmt::eval

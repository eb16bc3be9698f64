// Rule-based word tokenizer for the seed preset (design §1), standing in for spaCy de/en.
//
// A line is split at whitespace (incl. NBSP); each chunk is then scanned left to right into
// words and punctuation:
//   - a word is a run of letters/digits joined by connectors that belong to it: hyphens
//     (`t-shirt`, `3-jähriger`, `rock-'n'-roll-band`), apostrophes between letters
//     (`d'oeuvres`), `&` and `_` between word characters (`a&m`), `. , :` between digits
//     (`1.000`, `2,5`, `10:30`) and a dot before a web domain (`avrovulcan.com`);
//   - German truncated compounds keep their hyphen (`obst- und`, `rot-,`, `und -handschuhe`);
//   - a dot stays on a word only for abbreviations: known ones (`bzw.`, `st.`, `dr.` ...),
//     dotted acronyms (`z.b.`, `u.s.`, `s.c.u.b.a.`), an initial before a capitalised word
//     (`john a. noble`) and German ordinals before another word (`2. stock`); otherwise it is
//     split off (`büsche.` -> `büsche` `.`), runs of dots stay one token (`...`, `..`);
//   - clitics are split like spaCy: English `n't 's 're 'll 've 'm 'd` (`don't` -> `do n't`,
//     `can't` -> `ca n't`), German `'s` (`geht's` -> `geht 's`); their apostrophe is made ASCII.
//     A German word-final apostrophe (elision `lass'`, possessive `maus'`) stays on its word
//     unless it closes a single quote opened on the line ('love story');
//   - every other punctuation character is a token of its own (runs of `. ! ? - * = _ ~ @ # +`
//     stay together); HTML entities left in the corpus (`&amp;` ...) are decoded first.
// Lowercasing maps ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals; ß stays.
// detokenize() undoes the spacing for display (see the rules there); tokens are not re-cased.
#include "text/tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <utility>

#include "common/error.h"
#include "text/utf8.h"

namespace nmt::text {
namespace {

using Cp = std::uint32_t;
constexpr Cp kEnd = 0xFFFFFFFFu;  // "no character" past either end of a chunk

struct Decoded {
  Cp cp;
  std::size_t len;
};

// Lenient: input is validated by the corpus reader; a stray byte decodes as U+FFFD.
Decoded decode(std::string_view s, std::size_t i) {
  const auto d = decode_utf8(s, i);
  return d.valid ? Decoded{d.cp, (std::size_t)d.len} : Decoded{0xFFFD, 1};
}

Cp lower_cp(Cp c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;  // À..Þ except ×
  if (c >= 0x100 && c <= 0x17F) {
    if (c == 0x130) return 'i';                                    // İ
    if (c == 0x178) return 0xFF;                                   // Ÿ
    if ((c <= 0x137) || (c >= 0x14A && c <= 0x177)) return c | 1;  // even = capital
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    return c;  // ĸ ŉ ſ
  }
  if (c == 0x1E9E) return 0xDF;                               // ẞ -> ß
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;  // Greek
  if (c >= 0x410 && c <= 0x42F) return c + 32;                // Cyrillic А..Я
  if (c >= 0x400 && c <= 0x40F) return c + 80;                // Ѐ..Џ
  return c;
}

bool is_space(Cp c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}

bool is_digit(Cp c) { return c >= '0' && c <= '9'; }

// Punctuation and symbols outside ASCII: split off like ASCII punctuation.
bool is_nonascii_punct(Cp c) {
  if (c >= 0xA1 && c <= 0xBF) {
    // ª ² ³ µ ¹ º ¼ ½ ¾ and the soft hyphen belong to words.
    return !(c == 0xAA || c == 0xAD || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 ||
             c == 0xBA || c == 0xBC || c == 0xBD || c == 0xBE);
  }
  return c == 0xD7 || c == 0xF7 || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205E) ||
         (c >= 0x20A0 && c <= 0x20CF) || (c >= 0x2100 && c <= 0x214F) ||
         (c >= 0x2190 && c <= 0x23FF) || (c >= 0x2500 && c <= 0x27BF) ||
         (c >= 0x2E00 && c <= 0x2E7F) || (c >= 0x3001 && c <= 0x303F) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF01 && c <= 0xFF0F) || c == 0xFFFD ||
         (c >= 0x1F000 && c <= 0x1FAFF);
}

bool is_word(Cp c) {
  if (c == kEnd) return false;
  if (c < 0x80) return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !is_space(c) && !is_nonascii_punct(c);
}
bool is_letter(Cp c) { return is_word(c) && !is_digit(c); }
bool is_upper(Cp c) { return is_letter(c) && lower_cp(c) != c; }
bool is_hyphen(Cp c) { return c == '-' || c == 0x2010 || c == 0x2011; }
bool is_apostrophe(Cp c) { return c == '\'' || c == 0x2019 || c == 0x2018; }

// Abbreviations that keep their dot (compared lowercased, without the dot).
const std::unordered_set<std::string>& abbreviations() {
  static const std::unordered_set<std::string> set = {
      // German
      "bzw", "ca", "usw", "evtl", "ggf", "inkl", "ehem", "sog", "bspw", "vgl", "str", "nr", "mio",
      "mrd", "zzgl", "bzgl", "abb", "tel", "geb", "jh", "jhd", "jhdt", "hl", "hr", "fr", "usf",
      // both
      "st", "dr", "prof", "etc", "mr", "mrs", "ms", "jr", "sr", "vs",
      // English
      "mt", "ave", "inc", "ltd", "co", "corp", "approx", "dept", "no"};
  return set;
}

const std::unordered_set<std::string>& top_level_domains() {
  static const std::unordered_set<std::string> set = {"com", "org", "net",  "edu", "gov",
                                                      "de",  "uk",  "info", "biz"};
  return set;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& ch : out)
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
  return out;
}

// Decoded view of one whitespace-free chunk, with access by code point index.
struct Chunk {
  std::string_view text;
  std::vector<Cp> cps;
  std::vector<std::size_t> off;  // byte offset of each code point, plus the end
  explicit Chunk(std::string_view t) : text(t) {
    for (std::size_t i = 0; i < t.size();) {
      auto d = decode(t, i);
      cps.push_back(d.cp);
      off.push_back(i);
      i += d.len;
    }
    off.push_back(t.size());
  }
  std::size_t size() const { return cps.size(); }
  Cp at(std::size_t k) const { return k < cps.size() ? cps[k] : kEnd; }
  std::string_view slice(std::size_t a, std::size_t b) const {
    return text.substr(off[a], off[b] - off[a]);
  }
};

// End (code point index) of a dotted acronym starting at k: (letter{1,3} '.'){2,} followed by
// no word character; 0 if there is none.
std::size_t acronym_end(const Chunk& c, std::size_t k) {
  std::size_t segments = 0, p = k;
  for (;;) {
    std::size_t q = p;
    while (is_letter(c.at(q)) && q - p < 4) ++q;
    if (q == p || q - p > 3 || c.at(q) != '.') break;
    p = q + 1;
    ++segments;
  }
  if (segments < 2 || is_word(c.at(p))) return 0;
  return p;
}

struct Context {
  Lang lang;
  bool split_hyphens;
  bool last_chunk;  // no chunk follows on this line
  Cp next_first;    // first code point of the following chunk (kEnd if none)
};

// End (code point index) of the word starting at k.
std::size_t scan_word(const Chunk& c, std::size_t k) {
  std::size_t j = k + 1;
  while (j < c.size()) {
    const Cp cp = c.at(j), prev = c.at(j - 1), next = c.at(j + 1);
    if (is_word(cp)) {
      ++j;
      continue;
    }
    if (is_hyphen(cp)) {
      std::size_t q = j + 1;
      while (is_apostrophe(c.at(q))) ++q;
      if (is_word(c.at(q))) {  // t-shirt, rock-'n'-roll
        j = q;
        continue;
      }
      // German truncated compound: "obst- und gemüsehändler", "rot-, weiß- und goldfarben"
      if (q == j + 1 && (q == c.size() || c.at(q) == ',') && is_letter(prev)) return q;
      return j;
    }
    if (is_apostrophe(cp)) {
      if (is_word(prev) && is_letter(next)) {  // d'oeuvres, man's, don't, 80's
        j += 1;
        continue;
      }
      if (is_letter(prev) && is_hyphen(next) && is_word(c.at(j + 2))) {  // rock-'n'-roll
        j += 2;
        continue;
      }
      return j;
    }
    if ((cp == '.' || cp == ',' || cp == ':') && is_digit(prev) && is_digit(next)) {
      j += 2;
      continue;
    }
    if ((cp == '&' || cp == '_') && is_word(prev) && is_word(next)) {  // a&m, flugbegleiter_in
      j += 2;
      continue;
    }
    if (cp == '.' && is_word(prev) && is_letter(next)) {  // avrovulcan.com
      std::size_t q = j + 1;
      while (is_letter(c.at(q))) ++q;
      if (!is_word(c.at(q)) && !(c.at(q) == '.' && is_word(c.at(q + 1))) &&
          top_level_domains().count(lower_ascii(c.slice(j + 1, q)))) {
        j = q;
        continue;
      }
    }
    return j;
  }
  return j;
}

// Called when the word [k, j) is followed by a dot at j: returns the new end if the dot belongs
// to the word (abbreviation, acronym, initial, German ordinal), else j.
std::size_t absorb_dot(const Chunk& c, std::size_t k, std::size_t j, const Context& ctx) {
  const std::string_view word = c.slice(k, j);
  bool letters = true, digits = true;
  for (std::size_t q = k; q < j; ++q) {
    letters = letters && is_letter(c.at(q));
    digits = digits && is_digit(c.at(q));
  }
  if (letters && j - k <= 3) {
    if (std::size_t e = acronym_end(c, k); e > j) return e;  // z.b., u.s., s.c.u.b.a.
  }
  const bool dot_ends_chunk = j + 1 == c.size();
  if (letters && abbreviations().count(lower_ascii(word))) {
    // dr.-seuss-buch keeps going as one hyphenated word
    if (is_hyphen(c.at(j + 1)) && is_word(c.at(j + 2))) return kEnd;
    if (lower_ascii(word) == "no" && !(dot_ends_chunk && is_digit(ctx.next_first))) return j;
    return j + 1;
  }
  if (!dot_ends_chunk || ctx.last_chunk) return j;
  if (letters && j - k == 1 && is_upper(c.at(k)) && is_upper(ctx.next_first)) return j + 1;
  if (digits && ctx.lang == Lang::De && is_word(ctx.next_first)) return j + 1;  // 2. stock
  return j;
}

struct Emitter {
  Lang lang;
  std::vector<std::string>& out;

  void token(std::string_view t) { out.emplace_back(t); }
  // A clitic with its apostrophe normalised to ASCII: "'" + rest.
  void clitic(std::string_view rest) {
    std::string t = "'";
    t.append(rest);
    out.push_back(std::move(t));
  }

  // Splits clitics off a word (apostrophes normalised to ASCII in the clitic).
  void word(std::string_view w) {
    // Find the last apostrophe and what follows it.
    std::size_t apos = std::string_view::npos, apos_len = 0;
    for (std::size_t i = 0; i < w.size();) {
      auto d = decode(w, i);
      if (is_apostrophe(d.cp)) {
        apos = i;
        apos_len = d.len;
      }
      i += d.len;
    }
    if (apos != std::string_view::npos && apos > 0) {
      const std::string tail = lower_ascii(w.substr(apos + apos_len));
      const std::string_view head = w.substr(0, apos);
      if (lang == Lang::En) {
        if (tail == "t" && head.size() >= 2 && (head.back() == 'n' || head.back() == 'N')) {
          token(head.substr(0, head.size() - 1));
          std::string nt(1, head.back());
          nt += "'t";
          out.push_back(std::move(nt));
          return;
        }
        if (tail == "s" || tail == "re" || tail == "ll" || tail == "ve" || tail == "m" ||
            tail == "d") {
          token(head);
          clitic(w.substr(apos + apos_len));
          return;
        }
      } else {
        const std::string h = to_lower(head);  // auf'm, über'm
        if (tail == "s" || (tail == "m" && (h == "auf" || h == "unter" || h == "vor" ||
                                            h == "hinter" || h == "über"))) {
          token(head);
          clitic(w.substr(apos + apos_len));
          return;
        }
      }
    }
    token(w);
  }
};

// If an apostrophe at k starts a clitic standing alone ('s, 're, 'em, ...), its end; else 0.
std::size_t clitic_end(const Chunk& c, std::size_t k) {
  std::size_t q = k + 1;
  while (is_letter(c.at(q))) ++q;
  if (q == k + 1 || is_word(c.at(q)) || is_apostrophe(c.at(q))) return 0;
  const std::string tail = lower_ascii(c.slice(k + 1, q));
  static const std::array<const char*, 8> kClitics = {"s", "re", "ll", "ve", "m", "d", "em", "n"};
  for (const char* cl : kClitics)
    if (tail == cl) return q;
  return 0;
}

bool is_run_char(Cp c) {
  return c == '.' || c == '!' || c == '?' || c == '-' || c == '*' || c == '=' || c == '_' ||
         c == '~' || c == '@' || c == '#' || c == '+';
}

// single_open: a single quote opened earlier on the line ('love story') is waiting to close.
void scan_chunk(const Chunk& c, const Context& ctx, Emitter& em, bool& single_open) {
  std::size_t k = 0;
  while (k < c.size()) {
    const Cp cp = c.at(k);
    if (is_word(cp)) {
      std::size_t j = scan_word(c, k);
      // A dot right after the word: abbreviation or sentence punctuation?
      while (c.at(j) == '.') {
        std::size_t e = absorb_dot(c, k, j, ctx);
        if (e == kEnd) {  // abbreviation continuing as a hyphenated word
          j = scan_word(c, j + 1);
          continue;
        }
        j = e;
        break;
      }
      // German elision / possessive apostrophe stays on its word (lass', maus') unless it
      // closes a quote opened on this line.
      if (ctx.lang == Lang::De && is_apostrophe(c.at(j)) && !is_word(c.at(j + 1)) &&
          is_letter(c.at(j - 1)) && !single_open) {
        ++j;
      }
      if (ctx.split_hyphens) {
        // spaCy's infix rules: English splits a hyphen between letters, both languages one
        // between digits.
        std::size_t start = k;
        for (std::size_t q = k + 1; q + 1 < j; ++q) {
          if (!is_hyphen(c.at(q))) continue;
          const Cp prev = c.at(q - 1), next = c.at(q + 1);
          const bool letters = ctx.lang == Lang::En && is_letter(prev) && is_letter(next);
          const bool digits = is_digit(prev) && is_digit(next);
          if (!letters && !digits) continue;
          em.word(c.slice(start, q));
          em.token(c.slice(q, q + 1));
          start = q + 1;
        }
        em.word(c.slice(start, j));
      } else {
        em.word(c.slice(k, j));
      }
      k = j;
    } else if (ctx.lang == Lang::De && k == 0 && is_hyphen(cp) && is_letter(c.at(k + 1))) {
      // German truncated compound: "schutzhelm und -handschuhe"
      const std::size_t j = scan_word(c, k + 1);
      em.token(c.slice(k, j));
      k = j;
    } else if (is_apostrophe(cp) && clitic_end(c, k)) {
      const std::size_t e = clitic_end(c, k);
      em.clitic(c.slice(k + 1, e));
      k = e;
    } else if (cp < 0x80 && is_run_char(cp)) {
      std::size_t e = k + 1;
      while (c.at(e) == cp) ++e;
      em.token(c.slice(k, e));
      k = e;
    } else {
      if (is_apostrophe(cp)) single_open = k == 0 && is_word(c.at(k + 1)) && !single_open;
      em.token(c.slice(k, k + 1));
      ++k;
    }
  }
}

std::string decode_entities(std::string_view line) {
  static const std::array<std::pair<std::string_view, char>, 6> kEntities = {{{"&amp;", '&'},
                                                                              {"&quot;", '"'},
                                                                              {"&apos;", '\''},
                                                                              {"&#39;", '\''},
                                                                              {"&lt;", '<'},
                                                                              {"&gt;", '>'}}};
  std::string out;
  out.reserve(line.size());
  for (std::size_t i = 0; i < line.size();) {
    bool hit = false;
    if (line[i] == '&') {
      for (const auto& [name, ch] : kEntities) {
        if (line.substr(i, name.size()) == name) {
          out += ch;
          i += name.size();
          hit = true;
          break;
        }
      }
    }
    if (!hit) out += line[i++];
  }
  return out;
}

}  // namespace

Lang lang_from_code(std::string_view code) {
  if (code == "de") return Lang::De;
  if (code == "en") return Lang::En;
  const bool ok =
      !code.empty() && code.size() <= 16 && std::all_of(code.begin(), code.end(), [](char ch) {
        return std::isalnum((unsigned char)ch) || ch == '-' || ch == '_';
      });
  if (!ok)
    throw Error("bad language code '" + std::string(code) +
                "' (expected letters, digits, '-' or '_', e.g. de, en, pt-br)");
  return Lang::Other;
}

std::string to_lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto d = decode(s, i);
    if (d.cp == 0xFFFD && d.len == 1 && static_cast<unsigned char>(s[i]) >= 0x80) {
      out += s[i];  // keep stray bytes as they are
    } else if (d.cp < 0x80) {
      out += static_cast<char>(lower_cp(d.cp));
    } else {
      const Cp lc = lower_cp(d.cp);
      if (lc == d.cp)
        out.append(s.substr(i, d.len));
      else
        append_utf8(out, lc);
    }
    i += d.len;
  }
  return out;
}

std::vector<std::string> tokenize(std::string_view line, Lang lang, bool lower,
                                  bool split_hyphens) {
  const std::string text = decode_entities(line);
  const std::string_view sv(text);

  // Whitespace-separated chunks (byte ranges).
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  std::size_t start = std::string_view::npos;
  for (std::size_t i = 0; i < sv.size();) {
    const auto d = decode(sv, i);
    if (is_space(d.cp)) {
      if (start != std::string_view::npos) chunks.emplace_back(start, i);
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += d.len;
  }
  if (start != std::string_view::npos) chunks.emplace_back(start, sv.size());

  std::vector<std::string> tokens;
  Emitter em{lang, tokens};
  bool single_open = false;
  for (std::size_t n = 0; n < chunks.size(); ++n) {
    const Chunk chunk(sv.substr(chunks[n].first, chunks[n].second - chunks[n].first));
    Context ctx{lang, split_hyphens, n + 1 == chunks.size(), kEnd};
    if (!ctx.last_chunk) ctx.next_first = decode(sv, chunks[n + 1].first).cp;
    scan_chunk(chunk, ctx, em, single_open);
  }
  if (lower)
    for (auto& t : tokens) t = to_lower(t);
  return tokens;
}

namespace {

bool all_of_chars(std::string_view t, std::string_view set) {
  return !t.empty() && t.find_first_not_of(set) == std::string_view::npos;
}

bool is_clitic_token(const std::string& t) {
  return t == "n't" || t == "N'T" || t == "'s" || t == "'re" || t == "'ll" || t == "'ve" ||
         t == "'m" || t == "'d" || t == "'S" || t == "'RE" || t == "'LL" || t == "'VE" ||
         t == "'M" || t == "'D";
}

}  // namespace

// Display rules: no space before . , ! ? : ; ) ] } and clitics (n't 's 're ...), none after
// ( [ { ¿ ¡; "/" is glued on both sides, "#" to a following number, "-" to a quote it follows
// („bbq“-schild); a mid-sentence ellipsis keeps its spaces. Quotes are paired: " toggles, „ is
// closed by “ (English “ opens and ” closes), » « work either way round, and straight single
// quotes pair up from the right, so an unpaired one is an apostrophe (ladies' room).
std::string detokenize(const std::vector<std::string>& tokens, Lang lang, bool split_hyphens) {
  (void)lang;  // the same display rules serve German and English
  auto wordlike = [](const std::string& t) { return !t.empty() && is_word(decode(t, 0).cp); };
  // Open quotes: straight double, German low „, curly “/”, guillemets, straight/low single.
  bool open_dq = false, open_low = false, open_curly = false, open_laquo = false,
       open_raquo = false, open_sq = false, open_low_single = false;
  std::string out;
  bool glue_next = true;       // no space before the next token (line start, after an opener)
  bool after_closing = false;  // previous token closed a quote
  for (std::size_t k = 0; k < tokens.size(); ++k) {
    const std::string& t = tokens[k];
    const bool last = k + 1 == tokens.size();
    bool attach_left = false, attach_right = false, closing = false;
    auto open_or_close = [&](bool& open_flag) {
      if (open_flag) {
        attach_left = closing = true;
        open_flag = false;
      } else {
        attach_right = open_flag = true;
      }
    };
    if (all_of_chars(t, ".") && t.size() > 1) {
      attach_left = last;  // a mid-sentence ellipsis keeps its spaces ("come on now ... what's")
    } else if (t == "\xe2\x80\xa6") {  // …
      attach_left = last;
    } else if (all_of_chars(t, ".,!?:;") || t == ")" || t == "]" || t == "}" ||
               is_clitic_token(t)) {
      attach_left = true;
    } else if (t == "(" || t == "[" || t == "{" || t == "\xc2\xbf" || t == "\xc2\xa1") {
      attach_right = true;
    } else if (t == "#" && !last && is_digit(static_cast<unsigned char>(tokens[k + 1][0]))) {
      attach_right = true;                                 // #8
    } else if (t == "/" || (t == "-" && after_closing)) {  // der/die, „mongolian bbq“-leuchtreklame
      attach_left = attach_right = true;
    } else if (t == "-" && split_hyphens && k > 0 && !last && wordlike(tokens[k - 1]) &&
               wordlike(tokens[k + 1])) {  // t - shirt -> t-shirt
      attach_left = attach_right = true;
    } else if (t == "\"") {
      open_or_close(open_dq);
    } else if (t == "\xe2\x80\x9e") {  // „
      attach_right = open_low = true;
    } else if (t == "\xe2\x80\x9c" || t == "\xe2\x80\x9d") {
      // “ closes „ (German) or any open quote, opens otherwise (English); ” likewise.
      if (open_low || open_dq || open_curly) {
        attach_left = closing = true;
        open_low = open_dq = open_curly = false;
      } else {
        attach_right = open_curly = true;
      }
    } else if (t == "\xc2\xab") {  // « opens, or closes »...« (German style)
      open_raquo ? (void)open_or_close(open_raquo) : (void)open_or_close(open_laquo);
    } else if (t == "\xc2\xbb") {  // »
      open_laquo ? (void)open_or_close(open_laquo) : (void)open_or_close(open_raquo);
    } else if (t == "\xe2\x80\x9a") {  // ‚
      attach_right = open_low_single = true;
    } else if (t == "\xe2\x80\x98") {  // ‘ closes ‚, opens otherwise
      if (open_low_single) {
        attach_left = closing = true;
        open_low_single = false;
      } else {
        attach_right = true;
      }
    } else if (t == "\xe2\x80\x99") {  // ’ closing quote or apostrophe
      attach_left = closing = true;
    } else if (t == "'") {
      // Straight single quotes pair up from the right: with an odd number of them still to
      // come this one opens ('love story'), otherwise it closes or is an apostrophe (ladies').
      int later = 0;
      for (std::size_t q = k + 1; q < tokens.size(); ++q) later += tokens[q] == "'";
      if (!open_sq && later % 2 == 1) {
        attach_right = open_sq = true;
      } else {
        attach_left = closing = true;
        open_sq = false;
      }
    }
    if (!out.empty() && !glue_next && !attach_left) out += ' ';
    out += t;
    glue_next = attach_right;
    after_closing = closing;
  }
  return out;
}

}  // namespace nmt::text

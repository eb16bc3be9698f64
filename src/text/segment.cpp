#include "text/segment.h"

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/unistr.h>
#include <unicode/ures.h>
#include <unicode/utext.h>

#include <unordered_set>

#include <cctype>

#include "common/error.h"

namespace nmt::text {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The range without leading and trailing ASCII whitespace (empty: begin == end).
Span trimmed(std::string_view s, std::size_t begin, std::size_t end) {
  while (begin < end && is_space(s[begin])) ++begin;
  while (end > begin && is_space(s[end - 1])) --end;
  return {begin, end};
}

// The last whitespace-delimited word of s.
std::string_view last_word(std::string_view s) {
  std::size_t i = s.size();
  while (i > 0 && !is_space(s[i - 1])) --i;
  return s.substr(i);
}

// ICU's sentence-break exceptions of a language (brkitr/LANG: exceptions/SentenceBreak, the
// list behind "@ss=standard": "Dr.", "z.", "Nr.", ...); empty for languages without one.
std::unordered_set<std::string> break_exceptions(const std::string& lang) {
  std::unordered_set<std::string> out;
  UErrorCode st = U_ZERO_ERROR;
  UResourceBundle* b = ures_openDirect(U_ICUDATA_NAME "-brkitr", lang.c_str(), &st);
  UResourceBundle* e = U_SUCCESS(st) ? ures_getByKey(b, "exceptions", nullptr, &st) : nullptr;
  UResourceBundle* list = U_SUCCESS(st) ? ures_getByKey(e, "SentenceBreak", nullptr, &st) : nullptr;
  while (U_SUCCESS(st) && list && ures_hasNext(list)) {
    int32_t len = 0;
    const UChar* w = ures_getNextString(list, &len, nullptr, &st);
    std::string u8;
    if (U_SUCCESS(st)) out.insert(icu::UnicodeString(w, len).toUTF8String(u8));
  }
  ures_close(list);
  ures_close(e);
  ures_close(b);
  return out;
}

// True when s ends with an initialism of two or more single letters each followed by a period
// ("E.S.E.", "U.S."): a boundary there is taken back (ICU breaks "E.S.E. Electronics").
bool ends_with_initialism(std::string_view s) {
  int letters = 0;
  std::size_t i = s.size();
  while (i >= 2 && s[i - 1] == '.' && std::isalpha((unsigned char)s[i - 2]) &&
         (i == 2 || s[i - 3] == '.' || is_space(s[i - 3]))) {
    ++letters;
    i -= 2;
    if (i > 0 && is_space(s[i - 1])) break;
  }
  return letters >= 2;
}

}  // namespace

struct SentenceSplitter::Impl {
  std::unique_ptr<icu::BreakIterator> prototype;
  // Words after which a boundary is not taken. ICU's own filter ("@ss=standard") matches them as
  // suffixes, so that German "r." suppresses the break after "Bar." or "Wasser."; here they
  // must be the whole word before the boundary.
  std::unordered_set<std::string> exceptions;
  bool suppressed(std::string_view sentence) const {
    return exceptions.count(std::string(last_word(sentence))) > 0 ||
           ends_with_initialism(sentence);
  }
};

SentenceSplitter::SentenceSplitter(const std::string& lang) : impl_(std::make_unique<Impl>()) {
  const icu::Locale loc = icu::Locale::createFromName(lang.c_str());
  impl_->exceptions = break_exceptions(lang);
  UErrorCode status = U_ZERO_ERROR;
  impl_->prototype.reset(icu::BreakIterator::createSentenceInstance(loc, status));
  if (U_FAILURE(status) || !impl_->prototype)
    throw Error("cannot make ICU's sentence iterator for '" + lang + "' (" + u_errorName(status) +
                ")");
}

SentenceSplitter::~SentenceSplitter() = default;

std::vector<Span> SentenceSplitter::split(std::string_view text) const {
  std::vector<Span> out;
  if (text.empty()) return out;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> bi(impl_->prototype->clone());
  UText* ut = utext_openUTF8(nullptr, text.data(), (int64_t)text.size(), &status);
  if (U_SUCCESS(status)) bi->setText(ut, status);
  if (U_FAILURE(status)) {
    utext_close(ut);
    throw Error(std::string("sentence segmentation failed (") + u_errorName(status) + ")");
  }
  // With a UTF-8 UText, the boundaries are byte offsets.
  int32_t begin = bi->first();
  for (int32_t end = bi->next(); end != icu::BreakIterator::DONE; begin = end, end = bi->next()) {
    const Span s = trimmed(text, (std::size_t)begin, (std::size_t)end);
    if (s.begin == s.end) continue;
    const bool joins = !out.empty() &&
                       impl_->suppressed(text.substr(out.back().begin,
                                                     out.back().end - out.back().begin)) &&
                       text.substr(out.back().end, s.begin - out.back().end).find('\n') ==
                           std::string_view::npos;
    if (joins)
      out.back().end = s.end;
    else
      out.push_back(s);
  }
  utext_close(ut);
  return out;
}

std::vector<Span> line_spans(std::string_view text) {
  std::vector<Span> out;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    out.push_back({at, end});
    at = end + 1;
  }
  return out;
}

std::vector<Span> paragraph_spans(std::string_view text) {
  std::vector<Span> out;
  bool open = false;
  for (const Span& l : line_spans(text)) {
    const bool blank = trimmed(text, l.begin, l.end).begin == l.end;
    if (blank) {
      open = false;
    } else if (open) {
      out.back().end = l.end;
    } else {
      out.push_back(l);
      open = true;
    }
  }
  return out;
}

std::vector<Span> split_clauses(std::string_view sentence, int max,
                                const std::function<int(std::string_view)>& length) {
  // Candidate cut points: just after ';' ':' ',' and after a dash with spaces around it.
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < sentence.size(); ++i) {
    const char c = sentence[i];
    if ((c == ';' || c == ':' || c == ',') && i + 1 < sentence.size() && is_space(sentence[i + 1]))
      cuts.push_back(i + 1);
    const bool dash = c == '-' || sentence.substr(i, 3) == "\xE2\x80\x93" ||  // en dash
                      sentence.substr(i, 3) == "\xE2\x80\x94";               // em dash
    if (dash && i > 0 && is_space(sentence[i - 1])) {
      const std::size_t after = i + (c == '-' ? 1 : 3);
      if (after < sentence.size() && is_space(sentence[after])) cuts.push_back(after);
    }
  }
  std::vector<Span> out;
  std::size_t begin = 0;
  while (begin < sentence.size()) {
    const Span rest = trimmed(sentence, begin, sentence.size());
    if (rest.begin == rest.end) break;
    if (length(sentence.substr(rest.begin, rest.end - rest.begin)) <= max) {
      out.push_back(rest);
      break;
    }
    // The latest cut whose piece fits; else the first cut after begin (the piece stays long).
    std::size_t chosen = 0;
    for (std::size_t c : cuts) {
      if (c <= rest.begin) continue;
      const Span piece = trimmed(sentence, rest.begin, c);
      if (length(sentence.substr(piece.begin, piece.end - piece.begin)) <= max)
        chosen = c;
      else if (chosen == 0)
        chosen = c;
      else
        break;
    }
    if (chosen == 0) {  // no cut point left: the rest stays one (long) piece
      out.push_back(rest);
      break;
    }
    const Span piece = trimmed(sentence, rest.begin, chosen);
    if (piece.begin < piece.end) out.push_back(piece);
    begin = chosen;
  }
  return out;
}

}  // namespace nmt::text

#pragma once
// Sentence segmentation, beside the codec in the text layer: ICU's sentence BreakIterator with
// the language's abbreviation suppressions (ICU's exception list: "Dr.", "Nr.", "Mr." ... do not
// end a sentence; languages ICU lacks get its root rules), each matched as the whole word
// before the boundary, and one suppression of ours: no break right after an initialism of
// single letters ("E.S.E. Electronics", "z.B."). Sentences are byte ranges of the caller's UTF-8
// text without surrounding whitespace, so whatever lies between them (spaces, line breaks,
// blank lines, indentation) can be kept exactly.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nmt::text {

struct Span {
  std::size_t begin = 0, end = 0;  // [begin, end) in bytes
  bool operator==(const Span&) const = default;
};

class SentenceSplitter {
 public:
  // lang: an ISO code ("de", "en", ...); throws nmt::Error when ICU cannot make an iterator.
  explicit SentenceSplitter(const std::string& lang);
  ~SentenceSplitter();
  SentenceSplitter(const SentenceSplitter&) = delete;
  SentenceSplitter& operator=(const SentenceSplitter&) = delete;
  // The sentences of text (valid UTF-8; line breaks end a sentence, as in ICU's rules).
  // Thread-safe: each call works on its own copy of the iterator.
  std::vector<Span> split(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The lines of text (without their '\n'), or its paragraphs: runs of lines that are not blank
// (whitespace only), without the line break that ends the last one. What lies between the spans
// is line breaks and blank lines.
std::vector<Span> line_spans(std::string_view text);
std::vector<Span> paragraph_spans(std::string_view text);

// A sentence longer than `max` units (by `length`, e.g. the model's tokens) cut at clause
// punctuation — ';', ':', ',', and dashes between spaces — into pieces of at most `max` units
// where it can, preferring the latest cut that fits; a stretch with no such point stays whole
// (the caller truncates it). Returns ranges of sentence (no surrounding whitespace).
std::vector<Span> split_clauses(std::string_view sentence, int max,
                                const std::function<int(std::string_view)>& length);

}  // namespace nmt::text

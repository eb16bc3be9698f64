#pragma once
// Text as people have it, translated: one function from text + format + decoding options to
// text, with each sentence's result (tokens, scores, attention). The CLI (`nmt translate
// --format`), the server's /v1/translate ("format") and the Python module call it.
//   lines  one segment per line; a line holding several sentences is split and rejoined
//   text   paragraphs (blank lines between them); a sentence may span the line breaks inside one
//   html   (decode/html.h) the text of block elements, inline markup carried by attention
// Sentences come from text/segment.h (ICU); whatever lies between them (spaces, line breaks,
// blank lines, indentation) is kept exactly. All sentences of the input are translated in
// batches together; each gets exactly what it gets alone. A sentence longer than max_src_len
// tokens is first cut at clause punctuation; only a piece with no such point is truncated, with
// a warning naming its line.
#include <string>
#include <string_view>
#include <vector>

#include "decode/translator.h"
#include "text/segment.h"

namespace nmt::decode {

enum class Format { Lines, Text, Html };
Format parse_format(const std::string& name);  // "lines" | "text" | "html", else nmt::Error

struct DocumentOptions {
  Format format = Format::Lines;
  bool split = true;          // false: a whole line (lines) is one segment, as before
  DecodeOptions search;       // beam, max_len, ...
  int max_src_len = DecodingOptions{}.max_src_len;
  int batch = DecodingOptions{}.batch;
  bool replace_unk = false;
};

struct SentenceResult {
  long line = 0;       // line of the input where the sentence starts (counting from first_line)
  std::string source;  // the sentence as translated (line breaks inside it as spaces)
  TextTranslation translation;
};

struct DocumentResult {
  std::string text;  // the translated text, in the input's layout
  std::vector<SentenceResult> sentences;
  std::vector<std::string> warnings;  // one line each ("input line 3 has 250 tokens; ...")
};

// A document cut into the sentences to translate, and the text around them.
struct Document {
  struct Piece {
    std::string kept;  // literal text (when sentence < 0)
    int sentence = -1;
  };
  std::vector<Piece> pieces;
  std::vector<std::string> sentences;
  std::vector<long> lines;  // the line where each sentence starts
};

// The text side of a model: the source language's sentence splitter and codec, made once.
// Thread-safe.
class DocumentSegmenter {
 public:
  explicit DocumentSegmenter(const model::Model& m);
  // text: valid UTF-8 (the caller checks); first_line: the number of its first line.
  Document segment(std::string_view text, const DocumentOptions& o, long first_line = 1) const;
  // The document's text with each sentence's translation in place (translations in the order
  // of doc.sentences); warnings for truncated sentences.
  DocumentResult assemble(const Document& doc, std::vector<TextTranslation> translations,
                          const DocumentOptions& o) const;
  const text::SentenceSplitter& splitter() const { return splitter_; }

 private:
  const model::Model& m_;
  text::SentenceSplitter splitter_;
};

// Segment, translate every sentence (in batches of o.batch), assemble.
class DocumentTranslator {
 public:
  DocumentTranslator(const model::Model& m, Translator& tr) : m_(m), tr_(tr), seg_(m) {}
  DocumentResult translate(std::string_view text, const DocumentOptions& o, long first_line = 1);

 private:
  const model::Model& m_;
  Translator& tr_;
  DocumentSegmenter seg_;
};

}  // namespace nmt::decode

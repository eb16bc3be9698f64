#include "decode/document.h"

#include <algorithm>

#include "common/error.h"
#include "decode/html.h"

namespace nmt::decode {

Format parse_format(const std::string& name) {
  if (name == "lines") return Format::Lines;
  if (name == "text") return Format::Text;
  if (name == "html") return Format::Html;
  throw Error("unknown format '" + name + "' (expected lines, text or html)");
}

namespace {

// The input as pieces: kept text, or a sentence to translate (its text and line).
struct Layout : Document {
  void keep(std::string_view s) {
    if (s.empty()) return;
    if (!pieces.empty() && pieces.back().sentence < 0)
      pieces.back().kept += s;
    else
      pieces.push_back({std::string(s), -1});
  }
  void sentence(std::string s, long line) {
    pieces.push_back({"", (int)sentences.size()});
    sentences.push_back(std::move(s));
    lines.push_back(line);
  }
};

long lines_in(std::string_view s) { return (long)std::count(s.begin(), s.end(), '\n'); }

}  // namespace

DocumentSegmenter::DocumentSegmenter(const model::Model& m)
    : m_(m), splitter_(m.config.src_lang) {}

namespace {

// Adds segment [begin, end) of text (one line, or one paragraph whose line breaks count as
// spaces) to the layout: its sentences, each cut at clauses when too long, and the text between.
void add_segment(Layout& out, std::string_view text, std::size_t begin, std::size_t end,
                 long line, const text::SentenceSplitter* splitter, int max_tokens,
                 const text::Codec& codec) {
  std::string flat(text.substr(begin, end - begin));
  std::replace(flat.begin(), flat.end(), '\n', ' ');
  std::replace(flat.begin(), flat.end(), '\r', ' ');
  std::vector<text::Span> spans;
  if (splitter) {
    spans = splitter->split(flat);
  } else {
    const auto first = flat.find_first_not_of(" \t\f\v");
    if (first != std::string::npos) spans.push_back({first, flat.find_last_not_of(" \t\f\v") + 1});
  }
  auto tokens = [&](std::string_view s) { return (int)codec.tokenize(s).size(); };
  if (spans.empty()) return;  // a blank line (or paragraph) stays empty, as before
  if (!splitter) {  // the whole segment, its translation alone (the output before --format)
    if (!spans.empty()) out.sentence(flat.substr(spans[0].begin, spans[0].end - spans[0].begin), line);
    return;
  }
  std::size_t at = 0;
  for (const auto& sp : spans) {
    const std::string_view sentence(flat.data() + sp.begin, sp.end - sp.begin);
    // A codec makes at most two tokens per byte (a word or piece, and SentencePiece's lone
    // "▁"): a sentence that short cannot be too long, and is not tokenized twice.
    const auto pieces = sentence.size() * 2 <= (std::size_t)max_tokens
                            ? std::vector<text::Span>{{0, sentence.size()}}
                            : text::split_clauses(sentence, max_tokens, tokens);
    for (const auto& piece : pieces) {
      const std::size_t b = sp.begin + piece.begin, e = sp.begin + piece.end;
      out.keep(text.substr(begin + at, b - at));
      out.sentence(flat.substr(b, e - b), line + lines_in(text.substr(begin, b)));
      at = e;
    }
  }
  out.keep(text.substr(begin + at, end - begin - at));
}

// lines: each line a segment. text: each paragraph a segment (its line breaks are spaces).
// Between segments, the input's own line breaks and blank lines.
Layout layout_of(std::string_view text, const DocumentOptions& o, long first_line,
                 const text::SentenceSplitter& splitter, const text::Codec& codec) {
  Layout out;
  const auto* split = o.split ? &splitter : nullptr;
  // --no-split: the whole line, truncated if too long (as before sentence segmentation).
  const int max_tokens = o.split ? o.max_src_len : 1 << 30;
  const auto segments = o.format == Format::Text ? text::paragraph_spans(text) : text::line_spans(text);
  std::size_t at = 0;
  for (const auto& seg : segments) {
    out.keep(text.substr(at, seg.begin - at));
    add_segment(out, text, seg.begin, seg.end, first_line + lines_in(text.substr(0, seg.begin)),
                split, max_tokens, codec);
    at = seg.end;
  }
  out.keep(text.substr(at));
  return out;
}

}  // namespace

Document DocumentSegmenter::segment(std::string_view text, const DocumentOptions& o,
                                   long first_line) const {
  if (o.format == Format::Html)
    throw Error("format html: translate it with DocumentTranslator (its sentences are tokenized "
                "piece by piece around the markup)");
  return layout_of(text, o, first_line, splitter_, *m_.src_codec);
}

DocumentResult DocumentSegmenter::assemble(const Document& doc,
                                           std::vector<TextTranslation> translations,
                                           const DocumentOptions& o) const {
  DocumentResult res;
  res.sentences.resize(doc.sentences.size());
  for (std::size_t k = 0; k < doc.sentences.size(); ++k) {
    auto& r = res.sentences[k];
    r.line = doc.lines[k];
    r.source = doc.sentences[k];
    r.translation = std::move(translations.at(k));
    if (r.translation.truncated_from > 0)
      res.warnings.push_back("input line " + std::to_string(r.line) + " has " +
                             std::to_string(r.translation.truncated_from) +
                             " tokens; translating the first " + std::to_string(o.max_src_len));
  }
  for (const auto& p : doc.pieces)
    res.text += p.sentence < 0 ? p.kept : res.sentences[p.sentence].translation.text;
  return res;
}

DocumentResult DocumentTranslator::translate(std::string_view text, const DocumentOptions& o,
                                             long first_line) {
  if (o.format == Format::Html) return translate_html(m_, tr_, seg_.splitter(), text, o);
  const Document doc = seg_.segment(text, o, first_line);
  std::vector<TextTranslation> all;
  all.reserve(doc.sentences.size());
  for (std::size_t start = 0; start < doc.sentences.size(); start += (std::size_t)o.batch) {
    const std::vector<std::string> slice(
        doc.sentences.begin() + start,
        doc.sentences.begin() + std::min(doc.sentences.size(), start + (std::size_t)o.batch));
    for (auto& r : translate_lines(m_, tr_, slice, o.search, o.replace_unk, o.max_src_len, 1, false))
      all.push_back(std::move(r));
  }
  return seg_.assemble(doc, std::move(all), o);
}

}  // namespace nmt::decode

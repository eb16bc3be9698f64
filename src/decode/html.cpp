#include "decode/html.h"

#include <algorithm>

#include "text/html.h"

namespace nmt::decode {

namespace {

// One sentence of a run: its byte range, its tokens (tokenized piece by piece between tag
// boundaries) and, for each tag of the run, which of those tokens it covers.
struct Sentence {
  int run = 0;
  text::Span range;
  std::vector<std::string> tokens;
  std::vector<int> tags;                      // run tag indices overlapping the sentence
  std::vector<std::vector<bool>> covers;      // [tag k][token j]
};

Sentence cut(const text::HtmlRun& run, int r, text::Span range, const text::Codec& codec) {
  Sentence s{r, range, {}, {}, {}};
  std::vector<std::size_t> bounds{range.begin, range.end};
  for (std::size_t k = 0; k < run.tags.size(); ++k) {
    const auto& t = run.tags[k];
    const std::size_t b = std::max(t.begin, range.begin), e = std::min(t.end, range.end);
    if (b >= e || run.text.find_first_not_of(" \t\n\r", b) >= e) continue;
    s.tags.push_back((int)k);
    bounds.push_back(b);
    bounds.push_back(e);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  s.covers.assign(s.tags.size(), {});
  for (std::size_t c = 0; c + 1 < bounds.size(); ++c) {
    const auto toks = codec.tokenize(std::string_view(run.text).substr(bounds[c], bounds[c + 1] - bounds[c]));
    for (std::size_t k = 0; k < s.tags.size(); ++k) {
      const auto& t = run.tags[s.tags[k]];
      const bool in = t.begin <= bounds[c] && bounds[c + 1] <= t.end;
      s.covers[k].insert(s.covers[k].end(), toks.size(), in);
    }
    s.tokens.insert(s.tokens.end(), toks.begin(), toks.end());
  }
  return s;
}

// Target span [first, last] of each tag by the rule in html.h (-1: nothing to wrap).
std::vector<std::pair<int, int>> project(const Sentence& s, const TextTranslation& t,
                                         const text::HtmlRun& run) {
  const int n = (int)t.src_tokens.size(), out = (int)t.out_tokens.size();
  const int S = t.attention_cols;
  auto att = [&](int i, int j) { return t.hyp.attention[(std::size_t)i * S + j + 1]; };
  std::vector<int> home(out, -1);  // source token each target word attends to most
  for (int i = 0; i < out && (std::size_t)(i + 1) * S <= t.hyp.attention.size(); ++i)
    for (int j = 0; j < n; ++j)
      if (home[i] < 0 || att(i, j) > att(i, home[i])) home[i] = j;
  std::vector<std::pair<int, int>> span(s.tags.size(), {-1, -1});
  for (std::size_t k = 0; k < s.tags.size(); ++k) {
    for (int i = 0; i < out; ++i)
      if (home[i] >= 0 && home[i] < (int)s.covers[k].size() && s.covers[k][home[i]]) {
        if (span[k].first < 0) span[k].first = i;
        span[k].second = i;
      }
    if (span[k].first >= 0 || out == 0 || home.empty() || home[0] < 0) continue;
    int best = 0;  // never dropped: the target word attending most to the tag's source words
    double best_sum = -1;
    for (int i = 0; i < out; ++i) {
      double sum = 0;
      for (int j = 0; j < n && j < (int)s.covers[k].size(); ++j) sum += s.covers[k][j] ? att(i, j) : 0;
      if (sum > best_sum) best_sum = sum, best = i;
    }
    span[k] = {best, best};
  }
  // A tag inside another (in the source) stays inside it.
  for (std::size_t k = 0; k < s.tags.size(); ++k)
    for (std::size_t p = 0; p < k; ++p) {
      const auto &a = run.tags[s.tags[p]], &b = run.tags[s.tags[k]];
      if (a.begin <= b.begin && b.end <= a.end && span[p].first >= 0 && span[k].first >= 0) {
        span[k].first = std::clamp(span[k].first, span[p].first, span[p].second);
        span[k].second = std::clamp(span[k].second, span[k].first, span[p].second);
      }
    }
  return span;
}

// The translation with the tags inserted: offsets of target words from detokenized prefixes.
std::string markup(const Sentence& s, const TextTranslation& t, const text::HtmlRun& run,
                   const std::vector<std::pair<int, int>>& span, const text::Codec& codec) {
  const int out = (int)t.out_tokens.size();
  std::vector<std::size_t> off(out + 1);
  for (int i = 0; i <= out; ++i) {
    const std::string prefix = codec.detokenize({t.out_tokens.begin(), t.out_tokens.begin() + i});
    std::size_t c = 0;
    while (c < prefix.size() && c < t.text.size() && prefix[c] == t.text[c]) ++c;
    off[i] = std::max(c, i > 0 ? off[i - 1] : 0);
  }
  // Insertions (offset, order, text): closes before opens at one offset, inner closes first.
  struct Ins { std::size_t at; int order; std::string text; };
  std::vector<Ins> ins;
  for (std::size_t k = 0; k < s.tags.size(); ++k) {
    const auto& tag = run.tags[s.tags[k]];
    if (span[k].first < 0) {
      ins.push_back({t.text.size(), 2 * (int)k, tag.open + tag.close});
      continue;
    }
    std::size_t open = off[span[k].first];
    while (open < t.text.size() && t.text[open] == ' ') ++open;
    const std::size_t close = std::max(open, off[span[k].second + 1]);
    if (close == open) {  // its words detokenize to nothing here: kept, empty
      ins.push_back({open, 2 * (int)k, tag.open + tag.close});
      continue;
    }
    ins.push_back({open, 1000000 + (int)k, tag.open});
    ins.push_back({close, -1000000 - (int)k, tag.close});
  }
  std::stable_sort(ins.begin(), ins.end(), [](const Ins& a, const Ins& b) {
    return a.at != b.at ? a.at < b.at : a.order < b.order;
  });
  std::string res;
  std::size_t at = 0;
  for (const auto& i : ins) {
    res += text::escape_html(std::string_view(t.text).substr(at, i.at - at));
    res += i.text;
    at = i.at;
  }
  return res + text::escape_html(std::string_view(t.text).substr(at));
}

// A run's text with its sentences replaced; tags outside every sentence stay where they were.
std::string assemble_run(const text::HtmlRun& run, const std::vector<const Sentence*>& sentences,
                         const std::vector<std::string>& translated) {
  std::string out;
  std::size_t at = 0;
  auto gap = [&](std::size_t to) {
    std::string_view g = std::string_view(run.text).substr(at, to - at);
    for (const auto& t : run.tags)  // a tag with no words: kept in its gap, with its content
      if (t.begin >= at && t.end <= to && run.text.find_first_not_of(" \t\n\r", t.begin) >= t.end) {
        out += text::escape_html(g.substr(0, t.begin - at)) + t.open +
               text::escape_html(std::string_view(run.text).substr(t.begin, t.end - t.begin)) +
               t.close;
        g = g.substr(t.end - at);
        at = t.end;
      }
    out += text::escape_html(g);
    at = to;
  };
  for (std::size_t k = 0; k < sentences.size(); ++k) {
    gap(sentences[k]->range.begin);
    out += translated[k];
    at = sentences[k]->range.end;
  }
  gap(run.text.size());
  return out;
}

}  // namespace

DocumentResult translate_html(const model::Model& m, Translator& tr,
                              const text::SentenceSplitter& splitter, std::string_view html,
                              const DocumentOptions& o) {
  const text::HtmlDocument doc = text::parse_html(html);
  std::vector<Sentence> sentences;
  for (std::size_t r = 0; r < doc.runs.size(); ++r)
    for (const auto& range : splitter.split(doc.runs[r].text))
      sentences.push_back(cut(doc.runs[r], (int)r, range, *m.src_codec));
  DecodeOptions search = o.search;
  search.keep_attention = true;
  DocumentResult res;
  std::vector<std::string> marked;
  for (std::size_t start = 0; start < sentences.size(); start += (std::size_t)o.batch) {
    std::vector<std::vector<std::string>> tokens;
    for (std::size_t k = start; k < std::min(sentences.size(), start + (std::size_t)o.batch); ++k)
      tokens.push_back(sentences[k].tokens);
    auto done = translate_tokens(m, tr, std::move(tokens), search, o.replace_unk, o.max_src_len);
    for (std::size_t k = 0; k < done.size(); ++k) {
      const Sentence& s = sentences[start + k];
      const auto& run = doc.runs[s.run];
      marked.push_back(markup(s, done[k], run, project(s, done[k], run), *m.trg_codec));
      res.sentences.push_back({0, run.text.substr(s.range.begin, s.range.end - s.range.begin),
                               std::move(done[k])});
    }
  }
  std::vector<std::string> runs(doc.runs.size());
  for (std::size_t r = 0, k = 0; r < doc.runs.size(); ++r) {
    std::vector<const Sentence*> mine;
    std::vector<std::string> texts;
    for (; k < sentences.size() && sentences[k].run == (int)r; ++k) {
      mine.push_back(&sentences[k]);
      texts.push_back(marked[k]);
    }
    runs[r] = assemble_run(doc.runs[r], mine, texts);
  }
  for (const auto& p : doc.pieces) res.text += p.run < 0 ? p.markup : runs[p.run];
  return res;
}

}  // namespace nmt::decode

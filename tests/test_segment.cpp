// Real text: sentence segmentation (ICU, text/segment.h) and documents (decode/document.h):
// sentences and the text between them, abbreviations, paragraphs, clause cuts of long
// sentences, and every sentence of a document translated exactly as it is alone.
#include <gtest/gtest.h>

#include "decode/document.h"
#include "model/checkpoint.h"
#include "test_util.h"
#include "text/html.h"
#include "text/segment.h"

using namespace nmt;
using namespace nmt::testing;

namespace {

std::vector<std::string> sentences(const std::string& lang, const std::string& text) {
  std::vector<std::string> out;
  for (const auto& s : text::SentenceSplitter(lang).split(text))
    out.push_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

}  // namespace

TEST(Segment, SentencesWithTheLanguagesAbbreviations) {
  EXPECT_EQ(sentences("de", "Ein Mann fährt Fahrrad. Zwei Hunde spielen im Schnee! Eine Frau "
                            "liest ein Buch im Park?"),
            (std::vector<std::string>{"Ein Mann fährt Fahrrad.", "Zwei Hunde spielen im Schnee!",
                                      "Eine Frau liest ein Buch im Park?"}));
  // Abbreviations (ICU's list for the language, whole words only) and initialisms do not end a
  // sentence; words that merely end like one ("Bar." / "r.") do.
  EXPECT_EQ(sentences("de", "Dr. Müller wohnt in Nr. 5, z.B. am Mo. Abend. Er steht in einer "
                            "Bar. Eine Frau im Wasser. Ein Schild der E.S.E. Electronics."),
            (std::vector<std::string>{"Dr. Müller wohnt in Nr. 5, z.B. am Mo. Abend.",
                                      "Er steht in einer Bar.", "Eine Frau im Wasser.",
                                      "Ein Schild der E.S.E. Electronics."}));
  EXPECT_EQ(sentences("en", "Mr. Smith went to Washington. He saw e.g. a dog."),
            (std::vector<std::string>{"Mr. Smith went to Washington.", "He saw e.g. a dog."}));
  // A language ICU has no data for: root rules.
  EXPECT_EQ(sentences("xx", "One. Two."), (std::vector<std::string>{"One.", "Two."}));
  EXPECT_TRUE(sentences("de", "").empty());
  EXPECT_TRUE(sentences("de", "   \t ").empty());
}

TEST(Segment, SpansLeaveTheWhitespaceBetweenSentences) {
  const std::string t = "  Eins ist da.   Zwei ist da.\t";
  const auto spans = text::SentenceSplitter("de").split(t);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0], (text::Span{2, 14}));
  EXPECT_EQ(spans[1], (text::Span{17, 29}));
  const auto paras = text::paragraph_spans("a\nb\n\n  \nc\n");
  ASSERT_EQ(paras.size(), 2u);
  EXPECT_EQ(paras[0], (text::Span{0, 3}));
  EXPECT_EQ(paras[1], (text::Span{8, 9}));
  EXPECT_EQ(text::line_spans("a\n\nb").size(), 3u);
}

TEST(Segment, LongSentencesAreCutAtClausePunctuation) {
  auto words = [](std::string_view s) {
    int n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) n += s[i] != ' ' && (i == 0 || s[i - 1] == ' ');
    return n;
  };
  const std::string s = "a b c, d e f; g h i - j k l: m n";
  std::vector<std::string> got;
  for (const auto& p : text::split_clauses(s, 7, words)) got.push_back(s.substr(p.begin, p.end - p.begin));
  EXPECT_EQ(got, (std::vector<std::string>{"a b c, d e f;", "g h i - j k l:", "m n"}));
  // No cut point: one piece (the caller truncates it); short enough: untouched.
  EXPECT_EQ(text::split_clauses("a b c d e f g h", 3, words).size(), 1u);
  EXPECT_EQ(text::split_clauses("a b, c", 10, words).size(), 1u);
}

TEST(Document, EachSentenceIsTranslatedAsItIsAloneAndPutBackInPlace) {
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  decode::Translator tr(m);
  decode::DocumentTranslator doc(m, tr);
  decode::DocumentOptions o;
  o.search.max_len = 4;
  const std::string text = "Ein Mann. Ein Hund.\n\n  Zwei Frauen.\nEin Kind";
  for (auto format : {decode::Format::Lines, decode::Format::Text}) {
    o.format = format;
    const auto res = doc.translate(text, o);
    std::vector<std::string> alone;
    for (const auto& s : res.sentences) {
      auto one = decode::translate_lines(m, tr, {s.source}, o.search, false, 200, 1, false);
      EXPECT_EQ(s.translation.text, one[0].text) << s.source;
      alone.push_back(one[0].text);
    }
    if (format == decode::Format::Lines) {
      ASSERT_EQ(res.sentences.size(), 4u);
      EXPECT_EQ(res.text, alone[0] + " " + alone[1] + "\n\n  " + alone[2] + "\n" + alone[3]);
      EXPECT_EQ(res.sentences[2].line, 3);
    } else {  // "zwei frauen.\nein kind" is one paragraph: the line break is a space inside it
      ASSERT_EQ(res.sentences.size(), 4u);
      EXPECT_EQ(res.sentences[3].source, "Ein Kind");
      EXPECT_EQ(res.text, alone[0] + " " + alone[1] + "\n\n  " + alone[2] + "\n" + alone[3]);
      EXPECT_EQ(res.sentences[3].line, 4);
    }
  }
  // --no-split: each line whole, its translation alone (no kept whitespace), as before.
  o.format = decode::Format::Lines;
  o.split = false;
  const auto whole = doc.translate("  Ein Mann. Ein Hund.  ", o);
  ASSERT_EQ(whole.sentences.size(), 1u);
  EXPECT_EQ(whole.text, whole.sentences[0].translation.text);
}

TEST(Document, ALongSentenceIsCutAtClausesBeforeAnythingIsTruncated) {
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  decode::Translator tr(m);
  decode::DocumentTranslator doc(m, tr);
  decode::DocumentOptions o;
  o.search.max_len = 2;
  o.max_src_len = 4;
  // 9 tokens with commas: three pieces, nothing truncated, no warning.
  auto res = doc.translate("ein mann, ein hund, ein kind .", o);
  EXPECT_EQ(res.sentences.size(), 3u);
  EXPECT_TRUE(res.warnings.empty());
  for (const auto& s : res.sentences) EXPECT_EQ(s.translation.truncated_from, 0u);
  // No cut point: truncated, with a warning naming the line.
  res = doc.translate("\nein mann ein hund ein kind .", o);
  ASSERT_EQ(res.warnings.size(), 1u);
  EXPECT_NE(res.warnings[0].find("input line 2 has 7 tokens"), std::string::npos) << res.warnings[0];
}

// HTML (text/html.h, gumbo): the markup around the text is kept as written, unclosed elements
// are closed, never-translated elements are kept whole, inline elements become tags of a run.
TEST(Html, RunsAndTheMarkupAroundThem) {
  const auto doc = text::parse_html(
      "<!DOCTYPE html><p class=\"a\">Ein <b>Hund</b> &amp; ein <a href=\"/x?a=1&amp;b\">Mann</a>."
      "<!-- c --><script>var b = '<b>x</b>';</script><pre>Kein Text</pre>"
      "<p translate=\"no\">Nein</p><ul><li>Eins<li>Zwei</ul>");
  ASSERT_EQ(doc.runs.size(), 3u);
  EXPECT_EQ(doc.runs[0].text, "Ein Hund & ein Mann.");
  ASSERT_EQ(doc.runs[0].tags.size(), 2u);
  EXPECT_EQ(doc.runs[0].tags[0].open, "<b>");
  EXPECT_EQ(doc.runs[0].tags[1].open, "<a href=\"/x?a=1&amp;b\">");
  EXPECT_EQ(doc.runs[0].text.substr(doc.runs[0].tags[1].begin, 4), "Mann");
  EXPECT_EQ(doc.runs[1].text, "Eins");
  std::string out;
  for (const auto& p : doc.pieces) out += p.run < 0 ? p.markup : "[" + doc.runs[p.run].text + "]";
  EXPECT_EQ(out,
            "<!DOCTYPE html><p class=\"a\">[Ein Hund & ein Mann.]<!-- c --><script>var b = "
            "'<b>x</b>';</script></p><pre>Kein Text</pre><p translate=\"no\">Nein</p><ul><li>[Eins]"
            "</li><li>[Zwei]</li></ul>");  // (<pre> closes the open <p>, as HTML5 says)
  EXPECT_EQ(text::escape_html("a<b>&c"), "a&lt;b&gt;&amp;c");
}

TEST(Html, HostileInputGetsAnAnswerOrOneLine) {
  // 10,000-deep nesting: one clear error, not a crash.
  std::string deep;
  for (int i = 0; i < 10000; ++i) deep += "<div>";
  expect_error([&] { text::parse_html(deep + "x"); }, {"nested deeper than"});
  // Unclosed tags, broken entities, 1 MB of tags, invalid markup: parsed, bounded.
  EXPECT_EQ(text::parse_html("<p>Ein <b>Hund &bogus; &#xZZ; <i>rennt").runs.size(), 1u);
  std::string tags;
  for (int i = 0; i < 100000; ++i) tags += "<br/>";
  EXPECT_TRUE(text::parse_html(tags).runs.empty());
  EXPECT_TRUE(text::parse_html("</p></b><<>>&&;;").runs.size() <= 1u);
}

// Inline markup carried by attention: every tag kept, well-formed, around target words.
TEST(Html, InlineTagsAreCarriedOverAndNeverDropped) {
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  decode::Translator tr(m);
  decode::DocumentTranslator doc(m, tr);
  decode::DocumentOptions o;
  o.format = decode::Format::Html;
  o.search.max_len = 5;
  for (int beam : {1, 3}) {
    o.search.beam = beam;
    const auto res = doc.translate(
        "<h1 id=\"t\">Ein <b>Mann</b> und <i class=\"z\"><b>ein</b> Hund</i>.</h1><p>Zwei.</p>", o);
    for (const char* tag : {"<h1 id=\"t\">", "</h1>", "<b>", "</b>", "<i class=\"z\">", "</i>", "<p>", "</p>"})
      EXPECT_NE(res.text.find(tag), std::string::npos) << tag << " dropped: " << res.text;
    // The <b> inside <i> stays inside it.
    const auto i_open = res.text.find("<i class"), i_close = res.text.find("</i>");
    const auto b2 = res.text.find("<b>", i_open);
    EXPECT_TRUE(i_open < b2 && b2 < i_close) << res.text;
    ASSERT_EQ(res.sentences.size(), 2u);
    EXPECT_FALSE(res.sentences[0].translation.hyp.attention.empty());
  }
}

// Attention heatmaps (src/viz) and `nmt attention`: the SVG is well-formed XML (checked by a
// small tokenizer with a tag stack), labels are escaped and keep their umlauts, there is one cell
// per weight whose fill and data-w encode it, and on the tiny checkpoint the rendered cells are
// exactly the translator's attention weights (rows summing to 1).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "decode/translator.h"
#include "model/checkpoint.h"
#include "viz/heatmap.h"

using namespace nmt;

namespace {

struct XmlElement {
  std::string name;
  std::map<std::string, std::string> attrs;
  std::string text;  // unescaped character data directly inside the element
};

struct XmlDoc {
  std::string declaration;           // the <?xml ...?> prolog, verbatim
  std::vector<XmlElement> elements;  // in document order
  std::string error;                 // empty when well-formed
};

bool is_name_char(char ch) {
  return std::isalnum((unsigned char)ch) || ch == '-' || ch == '_' || ch == ':' || ch == '.';
}

// Unescapes the five predefined entities and numeric references; false on a bare '&' or '<'.
bool unescape(const std::string& s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') return false;
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const std::size_t semi = s.find(';', i);
    if (semi == std::string::npos) return false;
    const std::string ent = s.substr(i + 1, semi - i - 1);
    static const std::map<std::string, char> kEntities = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    const auto it = kEntities.find(ent);
    if (it != kEntities.end()) {
      out += it->second;
    } else if (ent.size() > 1 && ent[0] == '#') {
      out += '?';  // a numeric character reference
    } else {
      return false;
    }
    i = semi;
  }
  return true;
}

// A minimal XML 1.0 tokenizer: prolog, comments, start/end/empty tags with quoted attributes,
// character data; checks that tags nest and close, attributes are unique, entities are valid.
XmlDoc parse_xml(const std::string& s) {
  XmlDoc doc;
  std::vector<std::size_t> stack;
  std::size_t pos = 0;
  int roots = 0;
  auto fail = [&](const std::string& why) {
    doc.error = why + " at byte " + std::to_string(pos);
    return doc;
  };
  if (s.compare(0, 5, "<?xml") == 0) {
    const std::size_t end = s.find("?>");
    if (end == std::string::npos) return fail("unterminated prolog");
    doc.declaration = s.substr(0, end + 2);
    pos = end + 2;
  }
  while (pos < s.size()) {
    if (s[pos] != '<') {
      const std::size_t next = std::min(s.find('<', pos), s.size());
      std::string text;
      if (!unescape(s.substr(pos, next - pos), text)) return fail("bad character data");
      if (stack.empty()) {
        if (text.find_first_not_of(" \t\r\n") != std::string::npos)
          return fail("text outside the root element");
      } else {
        doc.elements[stack.back()].text += text;
      }
      pos = next;
      continue;
    }
    if (s.compare(pos, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", pos);
      if (end == std::string::npos) return fail("unterminated comment");
      pos = end + 3;
      continue;
    }
    if (s.compare(pos, 2, "</") == 0) {
      std::size_t p = pos + 2, start = p;
      while (p < s.size() && is_name_char(s[p])) ++p;
      const std::string name = s.substr(start, p - start);
      if (p >= s.size() || s[p] != '>') return fail("bad end tag");
      if (stack.empty() || doc.elements[stack.back()].name != name)
        return fail("end tag </" + name + "> does not match");
      stack.pop_back();
      pos = p + 1;
      continue;
    }
    std::size_t p = pos + 1, start = p;
    while (p < s.size() && is_name_char(s[p])) ++p;
    XmlElement el;
    el.name = s.substr(start, p - start);
    if (el.name.empty()) return fail("empty tag name");
    bool empty_tag = false;
    for (;;) {
      while (p < s.size() && std::isspace((unsigned char)s[p])) ++p;
      if (p >= s.size()) return fail("unterminated tag");
      if (s[p] == '>') {
        ++p;
        break;
      }
      if (s.compare(p, 2, "/>") == 0) {
        p += 2;
        empty_tag = true;
        break;
      }
      const std::size_t an = p;
      while (p < s.size() && is_name_char(s[p])) ++p;
      const std::string attr = s.substr(an, p - an);
      if (attr.empty() || p + 1 >= s.size() || s[p] != '=' || (s[p + 1] != '"' && s[p + 1] != '\''))
        return fail("bad attribute in <" + el.name + ">");
      const char quote = s[p + 1];
      const std::size_t vend = s.find(quote, p + 2);
      if (vend == std::string::npos) return fail("unterminated attribute value");
      std::string value;
      if (!unescape(s.substr(p + 2, vend - p - 2), value)) return fail("bad attribute value");
      if (!el.attrs.emplace(attr, value).second) return fail("duplicate attribute " + attr);
      p = vend + 1;
    }
    if (stack.empty() && ++roots > 1) return fail("second root element");
    doc.elements.push_back(std::move(el));
    if (!empty_tag) stack.push_back(doc.elements.size() - 1);
    pos = p;
  }
  if (!stack.empty()) return fail("unclosed <" + doc.elements[stack.back()].name + ">");
  if (roots != 1) return fail("no root element");
  return doc;
}

std::vector<const XmlElement*> cells(const XmlDoc& doc) {
  std::vector<const XmlElement*> r;
  for (const auto& e : doc.elements) {
    auto it = e.attrs.find("class");
    if (e.name == "rect" && it != e.attrs.end() && it->second == "cell") r.push_back(&e);
  }
  return r;
}

bool has_text(const XmlDoc& doc, const std::string& text) {
  for (const auto& e : doc.elements)
    if (e.name == "text" && e.text == text) return true;
  return false;
}

double luminance(const std::string& hex) {
  const long v = std::strtol(hex.c_str() + 1, nullptr, 16);
  return 0.2126 * ((v >> 16) & 255) + 0.7152 * ((v >> 8) & 255) + 0.0722 * (v & 255);
}

const std::vector<std::string> kSrc = {"<sos>", "a&b", "\"q\"", "x>y", "it's", "fährt", "<eos>"};
const std::vector<std::string> kOut = {"<b>", "Mädchen", "straße", "<eos>"};

std::vector<float> sample_weights(int rows, int cols) {
  std::vector<float> w((std::size_t)rows * cols);
  for (int i = 0; i < rows; ++i) {
    float sum = 0.0f;
    for (int j = 0; j < cols; ++j)
      sum += w[(std::size_t)i * cols + j] = 1.0f + ((i * 7 + j * 3) % 5);
    for (int j = 0; j < cols; ++j) w[(std::size_t)i * cols + j] /= sum;
  }
  w[0] = 0.0f;
  w[1] = 0.9f;  // the maximum
  return w;
}

}  // namespace

TEST(VizXmlCheck, RejectsMalformed) {
  EXPECT_EQ(parse_xml("<a><b></b></a>").error, "");
  EXPECT_NE(parse_xml("<a><b></a></b>").error, "");
  EXPECT_NE(parse_xml("<a>x < y</a>").error, "");
  EXPECT_NE(parse_xml("<a>x & y</a>").error, "");
  EXPECT_NE(parse_xml("<a t=\"1\" t=\"2\"/>").error, "");
  EXPECT_NE(parse_xml("<a>").error, "");
  EXPECT_NE(parse_xml("<a/><b/>").error, "");
}

TEST(Viz, XmlEscape) {
  EXPECT_EQ(viz::xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(viz::xml_escape("fährt"), "fährt");
}

TEST(Viz, SvgIsWellFormedWithEscapedLabels) {
  const auto w = sample_weights((int)kOut.size(), (int)kSrc.size());
  const std::string title = "ein <mann> & \"fährt\"  \xE2\x86\x92  a man rides";
  const std::string svg = viz::render_svg(kSrc, kOut, w, title);
  const XmlDoc doc = parse_xml(svg);
  ASSERT_EQ(doc.error, "") << svg;
  EXPECT_NE(doc.declaration.find("encoding=\"UTF-8\""), std::string::npos);
  ASSERT_FALSE(doc.elements.empty());
  EXPECT_EQ(doc.elements[0].name, "svg");
  EXPECT_EQ(doc.elements[0].attrs.at("xmlns"), "http://www.w3.org/2000/svg");
  // Every label comes back exactly after unescaping; the raw text has no unescaped markup.
  for (const auto& t : kSrc) EXPECT_TRUE(has_text(doc, t)) << t;
  for (const auto& t : kOut) EXPECT_TRUE(has_text(doc, t)) << t;
  EXPECT_TRUE(has_text(doc, title));
  EXPECT_NE(svg.find("&lt;sos&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a&amp;b"), std::string::npos);
  EXPECT_NE(svg.find("&quot;q&quot;"), std::string::npos);
  EXPECT_NE(svg.find("x&gt;y"), std::string::npos);
  EXPECT_EQ(svg.find("<b>"), std::string::npos);
  EXPECT_EQ(svg.find("<sos>"), std::string::npos);
  // Umlauts and ß are written as UTF-8, not mangled or dropped.
  EXPECT_NE(svg.find(">f\xC3\xA4hrt<"), std::string::npos);          // fährt
  EXPECT_NE(svg.find(">M\xC3\xA4\x64\x63hen<"), std::string::npos);  // Mädchen
  EXPECT_NE(svg.find(">stra\xC3\x9F\x65<"), std::string::npos);      // straße
}

TEST(Viz, SvgHasOneCellPerWeightEncodingIt) {
  const int rows = (int)kOut.size(), cols = (int)kSrc.size();
  const auto w = sample_weights(rows, cols);
  const XmlDoc doc = parse_xml(viz::render_svg(kSrc, kOut, w, "t"));
  ASSERT_EQ(doc.error, "");
  const auto cs = cells(doc);
  ASSERT_EQ((int)cs.size(), rows * cols);
  std::vector<int> seen((std::size_t)rows * cols, 0);
  for (const auto* c : cs) {
    const int i = std::stoi(c->attrs.at("data-row")), j = std::stoi(c->attrs.at("data-col"));
    ASSERT_TRUE(i >= 0 && i < rows && j >= 0 && j < cols);
    ++seen[(std::size_t)i * cols + j];
    const float wij = w[(std::size_t)i * cols + j];
    EXPECT_EQ(std::strtof(c->attrs.at("data-w").c_str(), nullptr), wij);
    EXPECT_EQ(c->attrs.at("fill"), viz::color_for(wij / 0.9f));
    EXPECT_EQ(c->attrs.at("width"), c->attrs.at("height"));
  }
  for (int k : seen) EXPECT_EQ(k, 1);
  EXPECT_EQ(cs[0]->attrs.at("fill"), viz::color_for(0.0));  // weight 0: the lightest colour
  EXPECT_EQ(cs[1]->attrs.at("fill"), viz::color_for(1.0));  // the maximum: the darkest
  // A colour bar legend labelled 0 and max.
  bool bar = false;
  for (const auto& e : doc.elements)
    bar |= e.name == "rect" && e.attrs.count("class") && e.attrs.at("class") == "colorbar";
  EXPECT_TRUE(bar);
  EXPECT_TRUE(has_text(doc, "0"));
  EXPECT_TRUE(has_text(doc, "0.9"));
}

TEST(Viz, SvgTitleLines) {
  const auto w = sample_weights((int)kOut.size(), (int)kSrc.size());
  const XmlDoc doc =
      parse_xml(viz::render_svg(kSrc, kOut, w, "ein mann & <x>\n\xE2\x86\x92 a man"));
  ASSERT_EQ(doc.error, "");
  std::vector<std::string> lines;
  for (const auto& e : doc.elements)
    if (e.attrs.count("class") && e.attrs.at("class") == "title") lines.push_back(e.text);
  EXPECT_EQ(lines, (std::vector<std::string>{"ein mann & <x>", "\xE2\x86\x92 a man"}));
}

TEST(Viz, ColorScaleIsMonotone) {
  EXPECT_EQ(viz::color_for(0.0), "#f7fbff");
  EXPECT_EQ(viz::color_for(1.0), "#08306b");
  EXPECT_EQ(viz::color_for(-1.0), viz::color_for(0.0));
  EXPECT_EQ(viz::color_for(2.0), viz::color_for(1.0));
  EXPECT_EQ(viz::color_for(NAN), viz::color_for(0.0));
  double prev = 1e9;
  for (int k = 0; k <= 100; ++k) {
    const std::string c = viz::color_for(k / 100.0);
    ASSERT_EQ(c.size(), 7u);
    const double l = luminance(c);
    EXPECT_LT(l, prev) << k;
    prev = l;
  }
}

TEST(Viz, FloatTextRoundTrips) {
  for (float x : {0.0f, 1.0f, 0.1f, 1.0f / 3.0f, 1e-7f, 0.123456789f}) {
    EXPECT_EQ(std::strtof(viz::float_text(x).c_str(), nullptr), x);
  }
  EXPECT_EQ(viz::display_width("fährt"), 5);
}

TEST(Viz, RejectsSizeMismatch) {
  EXPECT_THROW(viz::render_svg(kSrc, kOut, std::vector<float>(3), "t"), Error);
  EXPECT_THROW(viz::render_text(kSrc, {}, {}), Error);
  EXPECT_THROW(viz::render_svg({}, kOut, {}, "t"), Error);
}

TEST(Viz, TextHeatmap) {
  const std::vector<std::string> src = {"<sos>", "ein", "mann", "fährt", ".", "<eos>"};
  const std::vector<std::string> out = {"a", "man", "<eos>"};
  std::vector<float> w = {0.0f, 0.9f, 0.1f, 0.0f, 0.0f, 0.0f,  //
                          0.0f, 0.1f, 0.9f, 0.0f, 0.0f, 0.0f,  //
                          0.0f, 0.0f, 0.0f, 0.0f, 0.5f, 0.5f};
  const std::string txt = viz::render_text(src, out, w);
  std::vector<std::string> lines;
  std::istringstream in(txt);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 1 + out.size() + 1) << txt;
  EXPECT_EQ(lines[0], "      <sos> ein mann fährt .  <eos>");
  // "a": ein (0.9 = max) is full; mann (0.1) below 0.2 max is blank.
  const std::string full = "\xE2\x96\x88", mid = "\xE2\x96\x92";  // █ ▒
  EXPECT_EQ(lines[1], "a" + std::string(4 + 6 + 1, ' ') + full + full + full);
  EXPECT_EQ(lines[2].substr(0, 6), "man   ");
  EXPECT_NE(lines[2].find(full + full + full + full), std::string::npos);
  // 0.5 / 0.9 = 0.56 -> the middle shade ▒.
  EXPECT_EQ(lines[3], "<eos>" + std::string(6 + 4 + 5 + 6 + 1, ' ') + mid + mid + " " + mid + mid +
                          mid + mid + mid);
  EXPECT_NE(lines[4].find("max 0.9"), std::string::npos);
}

// ---- The tiny committed checkpoint, end to end ----

TEST(VizTiny, RenderedCellsAreTheAttentionWeights) {
  const auto m = model::load_model("tests/golden/tiny_ckpt");
  decode::Translator tr(m);
  for (int beam : {1, 3}) {
    decode::DecodeOptions opt;
    opt.beam = beam;
    opt.max_len = 12;
    opt.keep_attention = true;
    const auto res = decode::translate_lines(m, tr, {"ein mann fährt fahrrad ."}, opt);
    ASSERT_EQ(res.size(), 1u);
    const auto& r = res[0];
    const int S = tr.encoder().S;
    ASSERT_EQ(S, 7);  // <sos> ein mann fährt fahrrad . <eos>
    const auto& a = r.hyp.attention;
    ASSERT_EQ(a.size() % S, 0u);
    const std::size_t rows = a.size() / S;
    ASSERT_EQ(rows, r.hyp.ids.size() + (r.hyp.finished ? 1 : 0));
    for (std::size_t i = 0; i < rows; ++i) {
      double sum = 0.0;
      for (int j = 0; j < S; ++j) {
        EXPECT_GE(a[i * S + j], 0.0f);
        sum += a[i * S + j];
      }
      EXPECT_NEAR(sum, 1.0, 1e-5) << "row " << i << " beam " << beam;
    }
    std::vector<std::string> src{"<sos>"};
    src.insert(src.end(), r.src_tokens.begin(), r.src_tokens.end());
    src.push_back("<eos>");
    std::vector<std::string> out = r.out_tokens;
    if (rows > out.size()) out.push_back("<eos>");
    const XmlDoc doc = parse_xml(viz::render_svg(src, out, a, r.text));
    ASSERT_EQ(doc.error, "");
    const auto cs = cells(doc);
    ASSERT_EQ(cs.size(), a.size());
    for (const auto* c : cs) {
      const int i = std::stoi(c->attrs.at("data-row")), j = std::stoi(c->attrs.at("data-col"));
      EXPECT_EQ(std::strtof(c->attrs.at("data-w").c_str(), nullptr), a[(std::size_t)i * S + j]);
    }
    EXPECT_TRUE(has_text(doc, "fährt"));
  }
}

// ---- nmt attention ----

class VizCli : public ::testing::Test {
 protected:
  struct Result {
    int status;
    std::string out, err;
  };
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nmt_viz_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static std::string slurp(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  Result run(const std::string& args) {
    const auto out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = std::string("'") + NMT_BINARY + "' attention " + args + " >'" +
                            out.string() + "' 2>'" + err.string() + "'";
    const int rc = std::system(cmd.c_str());
    return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(out), slurp(err)};
  }
  static void expect_one_line_error(const Result& r, const std::string& what) {
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.err.rfind("nmt: error: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
  }
  std::filesystem::path dir_;
};

TEST_F(VizCli, WritesSvg) {
  const auto svg = dir_ / "a.svg";
  const auto r = run("--model tests/golden/tiny_ckpt \"ein mann fährt fahrrad .\" -o '" +
                     svg.string() + "' --beam 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string text = slurp(svg);
  const XmlDoc doc = parse_xml(text);
  ASSERT_EQ(doc.error, "");
  EXPECT_NE(doc.declaration.find("UTF-8"), std::string::npos);
  EXPECT_EQ(cells(doc).size() % 7, 0u);
  EXPECT_FALSE(cells(doc).empty());
  EXPECT_TRUE(has_text(doc, "fährt"));
  EXPECT_TRUE(has_text(doc, "<sos>"));
  EXPECT_TRUE(has_text(doc, "<eos>"));
  // No temporary file left beside it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) files += e.path() != svg;
  EXPECT_EQ(files, 2);  // stdout, stderr
}

TEST_F(VizCli, PrintsTextHeatmap) {
  const auto r = run("--model tests/golden/tiny_ckpt \"Ein Mann fährt Fahrrad.\" --format txt");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("<sos> ein mann fährt fahrrad .  <eos>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\xE2\x96\x88"), std::string::npos) << r.out;  // the max cell
  EXPECT_NE(r.out.find("scale:"), std::string::npos);
}

TEST_F(VizCli, Errors) {
  expect_one_line_error(run("--model tests/golden/no_such_model \"ein mann\" -o x.svg"),
                        "no_such_model");
  expect_one_line_error(run("--model tests/golden/tiny_ckpt \"$(printf 'ein \\377 mann')\" -o "
                            "'" +
                            (dir_ / "x.svg").string() + "'"),
                        "UTF-8");
  expect_one_line_error(
      run("--model tests/golden/tiny_ckpt \"   \" -o '" + (dir_ / "x.svg").string() + "'"),
      "empty");
  expect_one_line_error(run("--model tests/golden/tiny_ckpt \"ein mann\""), "-o");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.svg"));
}

#include "text/html.h"

#include <gumbo.h>

#include <algorithm>
#include <memory>

#include "common/error.h"

namespace nmt::text {

namespace {

bool is_inline(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_B: case GUMBO_TAG_I: case GUMBO_TAG_EM: case GUMBO_TAG_STRONG:
    case GUMBO_TAG_A: case GUMBO_TAG_SPAN: case GUMBO_TAG_U: case GUMBO_TAG_S:
    case GUMBO_TAG_SMALL: case GUMBO_TAG_SUB: case GUMBO_TAG_SUP: case GUMBO_TAG_MARK:
    case GUMBO_TAG_Q: case GUMBO_TAG_ABBR: case GUMBO_TAG_CITE: case GUMBO_TAG_DFN:
    case GUMBO_TAG_KBD: case GUMBO_TAG_SAMP: case GUMBO_TAG_VAR: case GUMBO_TAG_TIME:
    case GUMBO_TAG_FONT: case GUMBO_TAG_LABEL:
      return true;
    default:
      return false;
  }
}

bool is_void(GumboTag t) {
  switch (t) {
    case GUMBO_TAG_AREA: case GUMBO_TAG_BASE: case GUMBO_TAG_BR: case GUMBO_TAG_COL:
    case GUMBO_TAG_EMBED: case GUMBO_TAG_HR: case GUMBO_TAG_IMG: case GUMBO_TAG_INPUT:
    case GUMBO_TAG_LINK: case GUMBO_TAG_META: case GUMBO_TAG_PARAM: case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_TRACK: case GUMBO_TAG_WBR:
      return true;
    default:
      return false;
  }
}

std::string name_of(const GumboElement& e) {
  if (e.tag != GUMBO_TAG_UNKNOWN) return gumbo_normalized_tagname(e.tag);
  GumboStringPiece p = e.original_tag;
  gumbo_tag_from_original_text(&p);
  return std::string(p.data, p.length);
}

std::string close_tag(const GumboElement& e) {
  std::string s = "</";
  s.append(name_of(e)).push_back('>');
  return s;
}

// The element's end tag as written, when the source closed it with its own end tag (gumbo also
// records the end tag of another element that closed it implicitly: "</ul>" for an open <li>).
std::string_view own_end_tag(const GumboElement& e) {
  if (!e.original_end_tag.length) return {};
  GumboStringPiece p = e.original_end_tag;
  gumbo_tag_from_original_text(&p);
  const std::string name(p.data, p.length);
  if (gumbo_tag_enum(name.c_str()) != e.tag || (e.tag == GUMBO_TAG_UNKNOWN && name != name_of(e)))
    return {};
  return {e.original_end_tag.data, e.original_end_tag.length};
}

// Never translated: script, style, code, pre, textarea, and translate="no".
bool kept_whole(const GumboNode* n) {
  if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_TEMPLATE) return false;
  const auto& e = n->v.element;
  if (e.tag == GUMBO_TAG_SCRIPT || e.tag == GUMBO_TAG_STYLE || e.tag == GUMBO_TAG_CODE ||
      e.tag == GUMBO_TAG_PRE || e.tag == GUMBO_TAG_TEXTAREA)
    return true;
  const GumboAttribute* a = gumbo_get_attribute(&e.attributes, "translate");
  return a && std::string(a->value) == "no";
}

bool is_text(const GumboNode* n) {
  return n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE;
}

// An inline element whose whole content is text and inline elements (it can join a run).
bool joins_run(const GumboNode* n, int depth) {
  if (is_text(n)) return true;
  if (n->type != GUMBO_NODE_ELEMENT || !is_inline(n->v.element.tag) || kept_whole(n) ||
      depth > 64)
    return false;
  const auto& c = n->v.element.children;
  for (unsigned i = 0; i < c.length; ++i)
    if (!joins_run((const GumboNode*)c.data[i], depth + 1)) return false;
  return true;
}

class Writer {
 public:
  Writer(HtmlDocument& doc, int max_depth) : doc_(doc), max_depth_(max_depth) {}
  void node(const GumboNode* n, int depth, bool translate);
  void flush_run();

 private:
  void emit(std::string_view s) {
    if (s.empty()) return;
    if (doc_.pieces.empty() || doc_.pieces.back().run >= 0) doc_.pieces.push_back({"", -1});
    doc_.pieces.back().markup += s;
  }
  void element(const GumboNode* n, int depth, bool translate);
  void add_to_run(const GumboNode* n);
  static std::string open_tag(const GumboElement& e) {
    return e.original_tag.length ? std::string(e.original_tag.data, e.original_tag.length)
                                 : std::string("<").append(name_of(e)).append(">");
  }

  HtmlDocument& doc_;
  int max_depth_;
  HtmlRun run_;
  std::string run_markup_;  // the run as written (kept when it has nothing to translate)
};

void Writer::add_to_run(const GumboNode* n) {
  if (is_text(n)) {
    run_.text += n->v.text.text;
    if (n->type == GUMBO_NODE_WHITESPACE)
      run_markup_ += n->v.text.text;
    else
      run_markup_.append(n->v.text.original_text.data, n->v.text.original_text.length);
    return;
  }
  const auto& e = n->v.element;
  InlineTag tag{open_tag(e), close_tag(e), run_.text.size(), 0};
  const std::size_t at = run_.tags.size();
  run_.tags.push_back(tag);
  run_markup_ += tag.open;
  for (unsigned i = 0; i < e.children.length; ++i) add_to_run((const GumboNode*)e.children.data[i]);
  run_.tags[at].end = run_.text.size();
  const auto end = own_end_tag(e);
  run_markup_ += end.empty() ? tag.close : std::string(end);
}

void Writer::flush_run() {
  const bool words = run_.text.find_first_not_of(" \t\n\r\f\v") != std::string::npos;
  if (words) {
    doc_.pieces.push_back({"", (int)doc_.runs.size()});
    doc_.runs.push_back(std::move(run_));
  } else {
    emit(run_markup_);
  }
  run_ = {};
  run_markup_.clear();
}

void Writer::element(const GumboNode* n, int depth, bool translate) {
  const auto& e = n->v.element;
  translate = translate && !kept_whole(n);
  emit(e.original_tag.length ? std::string(e.original_tag.data, e.original_tag.length) : "");
  for (unsigned i = 0; i < e.children.length; ++i) {
    const auto* c = (const GumboNode*)e.children.data[i];
    if (translate && joins_run(c, 0)) {
      add_to_run(c);
      continue;
    }
    flush_run();
    node(c, depth + 1, translate);
  }
  flush_run();
  if (const auto end = own_end_tag(e); !end.empty())
    emit(end);
  else if (e.original_tag.length && !is_void(e.tag))
    emit(close_tag(e));  // left open in the source: closed here
}

void Writer::node(const GumboNode* n, int depth, bool translate) {
  if (depth > max_depth_)
    throw Error("HTML nested deeper than " + std::to_string(max_depth_) + " elements");
  switch (n->type) {
    case GUMBO_NODE_DOCUMENT: {
      const auto& d = n->v.document;
      if (d.has_doctype) emit(std::string("<!DOCTYPE ") + (*d.name ? d.name : "html") + ">");
      for (unsigned i = 0; i < d.children.length; ++i)
        node((const GumboNode*)d.children.data[i], depth + 1, translate);
      break;
    }
    case GUMBO_NODE_ELEMENT:
    case GUMBO_NODE_TEMPLATE:
      element(n, depth, translate);
      break;
    case GUMBO_NODE_WHITESPACE:  // its text (gumbo's original_text of whitespace can run on)
      emit(n->v.text.text);
      break;
    default:  // text outside runs, comments, CDATA: as written
      emit(std::string_view(n->v.text.original_text.data, n->v.text.original_text.length));
  }
}

}  // namespace

HtmlDocument parse_html(std::string_view html, int max_depth) {
  GumboOptions opt = kGumboDefaultOptions;
  opt.max_errors = 100;
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> out(
      gumbo_parse_with_options(&opt, html.data(), html.size()),
      [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
  if (!out) throw Error("the HTML could not be parsed");
  HtmlDocument doc;
  Writer w(doc, max_depth);
  w.node(out->document, 0, true);
  w.flush_run();
  return doc;
}

std::string escape_html(std::string_view text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    if (c == '&') s += "&amp;";
    else if (c == '<') s += "&lt;";
    else if (c == '>') s += "&gt;";
    else s += c;
  }
  return s;
}

}  // namespace nmt::text

#pragma once
// HTML as text to translate and the markup around it, with a real HTML5 parser (gumbo, Debian's
// libgumbo-dev). The text of each block is a run: its inline content (text, and inline elements
// b, i, em, strong, a, span, u, s, small, sub, sup, mark, q, abbr, cite, dfn, kbd, samp, var,
// time, font, label) as plain text, with each inline element's byte range in it. Everything else
// — tags and attributes as written, comments, entities outside runs, and the content of script,
// style, code, pre, textarea and any element with translate="no" — is kept. Elements the source
// left open are closed, so the document written back is well-formed.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nmt::text {

struct InlineTag {
  std::string open, close;      // "<b class=x>", "</b>" (as written, or made when implied)
  std::size_t begin = 0, end = 0;  // its content's byte range in the run's text
};

struct HtmlRun {
  std::string text;  // decoded (entities resolved), UTF-8
  std::vector<InlineTag> tags;  // in document order; nested ones after their parent
};

struct HtmlDocument {
  struct Piece {
    std::string markup;  // kept as is (when run < 0)
    int run = -1;
  };
  std::vector<Piece> pieces;
  std::vector<HtmlRun> runs;
};

// Throws nmt::Error (one line) for input gumbo cannot parse or nesting deeper than max_depth.
HtmlDocument parse_html(std::string_view html, int max_depth = 512);
// Text for HTML: & < > escaped.
std::string escape_html(std::string_view text);

}  // namespace nmt::text

#include "viz/heatmap.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/error.h"

namespace nmt::viz {

namespace {

void check_sizes(const std::vector<std::string>& src, const std::vector<std::string>& out,
                 const std::vector<float>& w) {
  if (src.empty() || out.empty()) throw Error("heatmap: no source or no output tokens");
  if (w.size() != src.size() * out.size())
    throw Error("heatmap: " + std::to_string(w.size()) + " weights for " +
                std::to_string(out.size()) + " x " + std::to_string(src.size()) + " cells");
}

// Largest finite weight; 1 when there is none above 0 (so an all-zero map stays white).
float scale_max(const std::vector<float>& w) {
  float mx = 0.0f;
  for (float x : w)
    if (std::isfinite(x)) mx = std::max(mx, x);
  return mx > 0.0f ? mx : 1.0f;
}

double fraction(float w, float mx) {
  const double t = (double)w / mx;
  return t >= 0.0 ? std::min(t, 1.0) : 0.0;  // also maps NaN to 0
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", x);
  return buf;
}

std::string short_value(float x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char ch : s) {
    if (ch == '&') {
      r += "&amp;";
    } else if (ch == '<') {
      r += "&lt;";
    } else if (ch == '>') {
      r += "&gt;";
    } else if (ch == '"') {
      r += "&quot;";
    } else if (ch == '\'') {
      r += "&apos;";
    } else if ((unsigned char)ch < 0x20 && ch != '\t' && ch != '\n') {
      r += "\xEF\xBF\xBD";  // U+FFFD: other control characters are not allowed in XML 1.0
    } else {
      r += ch;
    }
  }
  return r;
}

std::string color_for(double t) {
  // ColorBrewer "Blues" (9 classes), linearly interpolated.
  static const unsigned char kStops[9][3] = {
      {0xf7, 0xfb, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef},
      {0x9e, 0xca, 0xe1}, {0x6b, 0xae, 0xd6}, {0x42, 0x92, 0xc6},
      {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c}, {0x08, 0x30, 0x6b}};
  if (!(t >= 0.0)) t = 0.0;
  t = std::min(t, 1.0);
  const double pos = t * 8.0;
  const int i = std::min(7, (int)pos);
  const double f = pos - i;
  char buf[8];
  int rgb[3];
  for (int k = 0; k < 3; ++k)
    rgb[k] = (int)std::lround(kStops[i][k] + f * (kStops[i + 1][k] - kStops[i][k]));
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
  return buf;
}

std::string float_text(float x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

int display_width(std::string_view s) {
  int n = 0;
  for (char ch : s) n += ((unsigned char)ch & 0xC0) != 0x80;
  return n;
}

std::string render_svg(const std::vector<std::string>& src_tokens,
                       const std::vector<std::string>& out_tokens,
                       const std::vector<float>& weights, const std::string& title) {
  check_sizes(src_tokens, out_tokens, weights);
  const int rows = (int)out_tokens.size(), cols = (int)src_tokens.size();
  const float mx = scale_max(weights);
  // The title may have several lines ('\n').
  std::vector<std::string> title_lines;
  for (std::size_t start = 0;;) {
    const std::size_t nl = title.find('\n', start);
    title_lines.push_back(title.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  // Layout (pixels). Text widths are estimated generously at 0.6 em per character.
  const double cell = 30, font = 13, char_w = 0.6 * font, margin = 16, title_font = 15;
  const double title_line_h = 20, title_h = title_line_h * title_lines.size() + 12;
  const double diag = std::sqrt(0.5);  // column labels are rotated by 45 degrees
  int src_w = 0, out_w = 0;
  for (const auto& t : src_tokens) src_w = std::max(src_w, display_width(t));
  for (const auto& t : out_tokens) out_w = std::max(out_w, display_width(t));
  const double x0 = margin + out_w * char_w + 10;
  const double y0 = margin + title_h + src_w * char_w * diag + 12;
  const double gw = cols * cell, gh = rows * cell;
  const double bar_x = x0 + gw + 28, bar_w = 14, bar_h = std::max(gh, 120.0);
  const std::string max_text = short_value(mx);
  double width = bar_x + bar_w + 8 + display_width(max_text) * char_w + margin;
  // The last column's label reaches this far to the right of its anchor.
  width = std::max(width, x0 + gw - cell / 2 + src_w * char_w * diag + margin);
  for (const auto& line : title_lines)
    width = std::max(width, 2 * margin + display_width(line) * 0.64 * title_font);
  const double height = y0 + bar_h + margin;

  std::string s;
  s.reserve(512 + (std::size_t)rows * cols * 160);
  s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" +
       num(height) + "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"" + num(font) +
       "\">\n";
  s += "<title>" + xml_escape(title) + "</title>\n";
  s += "<defs><linearGradient id=\"nmt-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">";
  for (int k = 0; k <= 8; ++k)
    s += "<stop offset=\"" + num(k / 8.0) + "\" stop-color=\"" + color_for(k / 8.0) + "\"/>";
  s += "</linearGradient></defs>\n";
  s += "<rect class=\"background\" width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  for (std::size_t k = 0; k < title_lines.size(); ++k)
    s += "<text class=\"title\" x=\"" + num(margin) + "\" y=\"" +
         num(margin + title_font + k * title_line_h) + "\" font-size=\"" + num(title_font) +
         "\" font-weight=\"bold\">" + xml_escape(title_lines[k]) + "</text>\n";

  s += "<g class=\"cols\">\n";
  for (int j = 0; j < cols; ++j) {
    const double x = x0 + (j + 0.5) * cell - 3, y = y0 - 6;
    s += "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" transform=\"rotate(-45 " + num(x) + " " +
         num(y) + ")\">" + xml_escape(src_tokens[j]) + "</text>\n";
  }
  s += "</g>\n<g class=\"rows\" text-anchor=\"end\">\n";
  for (int i = 0; i < rows; ++i)
    s += "<text x=\"" + num(x0 - 8) + "\" y=\"" + num(y0 + (i + 0.5) * cell) + "\" dy=\"0.35em\">" +
         xml_escape(out_tokens[i]) + "</text>\n";
  s += "</g>\n<g class=\"cells\" shape-rendering=\"crispEdges\">\n";
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const float w = weights[(std::size_t)i * cols + j];
      s += "<rect class=\"cell\" x=\"" + num(x0 + j * cell) + "\" y=\"" + num(y0 + i * cell) +
           "\" width=\"" + num(cell) + "\" height=\"" + num(cell) + "\" fill=\"" +
           color_for(fraction(w, mx)) + "\" data-row=\"" + std::to_string(i) + "\" data-col=\"" +
           std::to_string(j) + "\" data-w=\"" + float_text(w) + "\"><title>" +
           xml_escape(out_tokens[i]) + " \xE2\x86\x90 " + xml_escape(src_tokens[j]) + ": " +
           float_text(w) + "</title></rect>\n";
    }
  s += "</g>\n";
  s += "<rect class=\"frame\" x=\"" + num(x0) + "\" y=\"" + num(y0) + "\" width=\"" + num(gw) +
       "\" height=\"" + num(gh) + "\" fill=\"none\" stroke=\"#888888\" stroke-width=\"1\"/>\n";
  // Colour bar: 0 at the bottom, max at the top.
  s += "<g class=\"legend\">\n";
  s += "<rect class=\"colorbar\" x=\"" + num(bar_x) + "\" y=\"" + num(y0) + "\" width=\"" +
       num(bar_w) + "\" height=\"" + num(bar_h) +
       "\" fill=\"url(#nmt-scale)\" stroke=\"#888888\" stroke-width=\"1\"/>\n";
  s += "<text x=\"" + num(bar_x + bar_w + 6) + "\" y=\"" + num(y0) + "\" dy=\"0.8em\">" + max_text +
       "</text>\n";
  s += "<text x=\"" + num(bar_x + bar_w + 6) + "\" y=\"" + num(y0 + bar_h) + "\">0</text>\n";
  s += "</g>\n</svg>\n";
  return s;
}

std::string render_text(const std::vector<std::string>& src_tokens,
                        const std::vector<std::string>& out_tokens,
                        const std::vector<float>& weights) {
  check_sizes(src_tokens, out_tokens, weights);
  static const char* const kShades[5] = {" ", "\xE2\x96\x91", "\xE2\x96\x92", "\xE2\x96\x93",
                                         "\xE2\x96\x88"};  // ' ' ░ ▒ ▓ █
  const int rows = (int)out_tokens.size(), cols = (int)src_tokens.size();
  const float mx = scale_max(weights);
  int label_w = 0;
  for (const auto& t : out_tokens) label_w = std::max(label_w, display_width(t));
  std::vector<int> col_w(cols);
  for (int j = 0; j < cols; ++j) col_w[j] = std::max(2, display_width(src_tokens[j]));
  auto pad = [](std::string& line, int n) { line.append(std::max(0, n), ' '); };
  std::string s, line;
  pad(line, label_w);
  for (int j = 0; j < cols; ++j) {
    line += " " + src_tokens[j];
    pad(line, col_w[j] - display_width(src_tokens[j]));
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  s += line + "\n";
  for (int i = 0; i < rows; ++i) {
    line = out_tokens[i];
    pad(line, label_w - display_width(out_tokens[i]));
    for (int j = 0; j < cols; ++j) {
      const double t = fraction(weights[(std::size_t)i * cols + j], mx);
      const char* shade = kShades[std::min(4, (int)(t * 5.0))];
      line += " ";
      for (int k = 0; k < col_w[j]; ++k) line += shade;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    s += line + "\n";
  }
  s += std::string("scale: ' ' < 0.2 max, ") + kShades[1] + " " + kShades[2] + " " + kShades[3] +
       ", " + kShades[4] + " >= 0.8 max (max " + short_value(mx) + ")\n";
  return s;
}

}  // namespace nmt::viz

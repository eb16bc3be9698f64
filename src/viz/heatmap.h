#pragma once
// Attention heatmaps (design §5, `nmt attention`) as pure functions of labels and weights, so
// they can be tested without a model. Weights are row-major [rows = output tokens, cols = source
// tokens]; the colour scale runs from 0 to the largest weight.
#include <string>
#include <string_view>
#include <vector>

namespace nmt::viz {

// XML text/attribute escaping of & < > " ' (UTF-8 passes through unchanged).
std::string xml_escape(std::string_view s);

// Sequential colour map (white -> dark blue) at t in [0, 1] (clamped) as "#rrggbb".
std::string color_for(double t);

// Shortest decimal text that reads back as exactly the same float (std::to_chars).
std::string float_text(float x);

// Number of Unicode code points of UTF-8 text (its width in a terminal, for these scripts).
int display_width(std::string_view s);

// A standalone SVG document (UTF-8, declared): title on top (one line per '\n'; the whole title
// is also the document's <title>), source tokens across the top as
// rotated column labels, output tokens down the left, one <rect class="cell"> per weight with
// fill = color_for(w / max) and data-w / data-row / data-col attributes, and a colour bar from
// 0 to max. Throws nmt::Error when the sizes disagree or there is nothing to draw.
std::string render_svg(const std::vector<std::string>& src_tokens,
                       const std::vector<std::string>& out_tokens,
                       const std::vector<float>& weights, const std::string& title);

// A terminal heatmap: a header line of source tokens, then one line per output token with one
// shade character of " ░▒▓█" (0 .. max) per source token, repeated over the label's width;
// ends with a legend line. Same size checks as render_svg.
std::string render_text(const std::vector<std::string>& src_tokens,
                        const std::vector<std::string>& out_tokens,
                        const std::vector<float>& weights);

}  // namespace nmt::viz

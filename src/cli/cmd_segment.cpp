// nmt segment: the sentences of a text (stdin) one per line, as `nmt translate` splits them
// (text/segment.h: ICU with the language's abbreviations); paragraphs as in --format text.
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "cli/commands.h"
#include "common/error.h"
#include "text/corpus.h"
#include "text/segment.h"

namespace nmt::cli {

void add_segment(CLI::App& app) {
  auto lang = std::make_shared<std::string>("de");
  auto* cmd = app.add_subcommand(
      "segment", "Print the sentences of stdin one per line (how translate --format text splits)");
  cmd->add_option("--lang", *lang, "Source language (ICU's rules and abbreviations)")
      ->capture_default_str();
  cmd->callback([lang] {
    const std::string text(std::istreambuf_iterator<char>(std::cin), {});
    if (!text::is_valid_utf8(text)) throw Error("<stdin>: invalid UTF-8");
    const text::SentenceSplitter splitter(*lang);
    // Paragraphs (blank lines between) are split apart; line breaks inside one are spaces.
    for (const auto& p : text::paragraph_spans(text)) {
      std::string para = text.substr(p.begin, p.end - p.begin);
      for (auto& c : para)
        if (c == '\n' || c == '\r') c = ' ';
      for (const auto& s : splitter.split(para))
        std::printf("%s\n", para.substr(s.begin, s.end - s.begin).c_str());
    }
  });
}

}  // namespace nmt::cli

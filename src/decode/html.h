#pragma once
// --format html: each block's text (text/html.h) translated sentence by sentence, and its inline
// markup carried over by the model's own attention. The rule: each target word belongs to the
// source token it attends to most (over the source tokens, not <sos>/<eos>); a tag wraps the
// target words from the first to the last that belong to its source words (one contiguous
// span); a tag none of whose target words belong to it wraps the one target word that attends
// to its source words most (never dropped); a tag inside another stays inside it. The attention
// is that of the hypothesis chosen (beam search keeps each hypothesis's own).
#include <string>
#include <string_view>

#include "decode/document.h"

namespace nmt::decode {

// The translated document and each sentence's result (throws nmt::Error for HTML nested too
// deeply; anything else gumbo parses).
DocumentResult translate_html(const model::Model& m, Translator& tr,
                              const text::SentenceSplitter& splitter, std::string_view html,
                              const DocumentOptions& o);

}  // namespace nmt::decode

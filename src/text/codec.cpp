// The codec factory and the word codec (the seed's pipeline); SentencePiece is in spm.cpp.
#include "text/codec.h"

#include "common/error.h"
#include "text/tokenizer.h"

namespace nmt::text {

std::unique_ptr<Codec> make_spm_codec(const std::string& model_path);  // spm.cpp

namespace {

class WordCodec final : public Codec {
 public:
  explicit WordCodec(const CodecSpec& s)
      : lang_(lang_from_code(s.lang)), lowercase_(s.lowercase), split_hyphens_(s.split_hyphens) {}
  std::vector<std::string> tokenize(std::string_view line) const override {
    return text::tokenize(line, lang_, lowercase_, split_hyphens_);
  }
  std::string detokenize(const std::vector<std::string>& tokens) const override {
    return text::detokenize(tokens, lang_, split_hyphens_);
  }

 private:
  Lang lang_;
  bool lowercase_, split_hyphens_;
};

}  // namespace

std::unique_ptr<Codec> make_codec(const CodecSpec& spec) {
  if (spec.type == "word") return std::make_unique<WordCodec>(spec);
  if (spec.type == "spm") return make_spm_codec(spec.spm_model);
  throw Error("unknown tokenizer '" + spec.type + "' (expected word or spm)");
}

}  // namespace nmt::text

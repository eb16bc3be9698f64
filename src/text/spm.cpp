// SentencePiece subwords (Debian's libsentencepiece, linked as a library): the spm codec and
// training a model inside `nmt train`.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "common/atomic_file.h"
#include "common/error.h"
#include "text/codec.h"

namespace sentencepiece::logging {
void SetMinLogLevel(int v);  // in libsentencepiece, not in its public headers
}

namespace nmt::text {

namespace {

class SpmCodec final : public Codec {
 public:
  explicit SpmCodec(const std::string& path) : path_(path) {
    const auto status = sp_.Load(path);
    if (!status.ok())
      throw Error(path + ": cannot load SentencePiece model (" + status.ToString() + ")");
    if (sp_.GetPieceSize() < 4 || sp_.IdToPiece(UNK) != "<unk>" || sp_.IdToPiece(PAD) != "<pad>" ||
        sp_.IdToPiece(SOS) != "<sos>" || sp_.IdToPiece(EOS) != "<eos>")
      throw Error(
          path + ": SentencePiece model without nmt's specials <unk> <pad> <sos> <eos> at ids 0-3");
  }
  std::vector<std::string> tokenize(std::string_view line) const override {
    std::vector<std::string> pieces;
    const auto status = sp_.Encode(absl::string_view(line.data(), line.size()), &pieces);
    if (!status.ok()) throw Error(path_ + ": cannot encode a line (" + status.ToString() + ")");
    return pieces;
  }
  std::string detokenize(const std::vector<std::string>& tokens) const override {
    std::string text;
    const auto status = sp_.Decode(tokens, &text);
    if (!status.ok()) throw Error(path_ + ": cannot decode pieces (" + status.ToString() + ")");
    return text;
  }
  std::optional<Vocab> own_vocab() const override {
    std::vector<std::string> pieces(sp_.GetPieceSize());
    for (int i = 0; i < (int)pieces.size(); ++i) pieces[i] = sp_.IdToPiece(i);
    return Vocab::from_tokens(std::move(pieces), path_);
  }

 private:
  std::string path_;
  sentencepiece::SentencePieceProcessor sp_;
};

class LinesIterator final : public sentencepiece::SentenceIterator {
 public:
  explicit LinesIterator(const std::vector<std::string>& lines) : lines_(lines) {}
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override { ++i_; }
  const std::string& value() const override { return lines_[i_]; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  const std::vector<std::string>& lines_;
  std::size_t i_ = 0;
};

}  // namespace

std::unique_ptr<Codec> make_spm_codec(const std::string& model_path) {
  return std::make_unique<SpmCodec>(model_path);
}

void train_spm(const std::vector<std::string>& sentences, const SpmTrainOptions& opt,
               const std::string& out_path) {
  if (opt.type != "unigram" && opt.type != "bpe")
    throw Error("--spm-type must be unigram or bpe, not '" + opt.type + "'");
  if (opt.vocab_size < 8) throw Error("--vocab-size must be at least 8");
  std::size_t nonempty = 0;
  for (const auto& s : sentences) nonempty += !s.empty();
  if (nonempty == 0) throw Error(out_path + ": no text to train SentencePiece on");
  sentencepiece::logging::SetMinLogLevel(1);  // warnings and errors only
  sentencepiece::SetRandomGeneratorSeed((unsigned)(opt.seed & 0xffffffffu));
  const std::unordered_map<std::string, std::string> args = {
      {"model_type", opt.type},
      {"vocab_size", std::to_string(opt.vocab_size)},
      {"num_threads", std::to_string(std::max(1, opt.threads))},
      {"unk_id", "0"},
      {"pad_id", "1"},
      {"bos_id", "2"},
      {"eos_id", "3"},
      {"unk_piece", "<unk>"},
      {"pad_piece", "<pad>"},
      {"bos_piece", "<sos>"},
      {"eos_piece", "<eos>"},
      {"byte_fallback", "true"},
      {"normalization_rule_name", "identity"},  // cased, nothing folded: lossless
      {"character_coverage", "0.9995"},
      {"max_sentence_length", "8192"},
      {"input_sentence_size", "0"},  // all given sentences (nmt samples them itself)
      {"shuffle_input_sentence", "false"},
      {"model_prefix", ""}};
  LinesIterator it(sentences);
  std::string proto;
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &proto);
  if (!status.ok()) {
    std::string why = status.ToString();
    if (why.find("Vocabulary size") != std::string::npos)
      why += " — lower --vocab-size or give more training text";
    throw Error("SentencePiece training failed: " + why);
  }
  write_file_atomic(out_path, proto);
}

}  // namespace nmt::text

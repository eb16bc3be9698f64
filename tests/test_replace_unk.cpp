// --replace-unk: an output <unk> is replaced by the source word with the highest attention.
#include <gtest/gtest.h>

#include "decode/translator.h"
#include "model/checkpoint.h"
#include "text/vocab.h"

using namespace nmt;

namespace {

// The tiny PyTorch checkpoint, biased so that every step emits <unk> (and never <eos>).
model::Model unk_model() {
  auto m = model::load_model("tests/golden/tiny_ckpt");
  m.w.out_b[text::UNK] += 100.0f;
  return m;
}

}  // namespace

TEST(ReplaceUnk, UnknownNameIsCopiedFromTheMostAttendedSourceWord) {
  auto m = unk_model();
  // v = 0 makes attention uniform over the real source positions; the most attended word is then
  // the first one (ties go to the earliest position), the out-of-vocabulary name.
  const int D = m.config.dec_hid_dim;
  for (int k = 0; k < D; ++k) m.w.att_v[k] = 0.0f;
  decode::Translator tr(m);
  decode::DecodeOptions opt;
  opt.max_len = 3;
  const auto plain = decode::translate_lines(m, tr, {"Zzyzx s5 s6"}, opt, false);
  ASSERT_EQ(plain[0].out_tokens.size(), 3u);
  for (const auto& t : plain[0].out_tokens) EXPECT_EQ(t, "<unk>");
  const auto replaced = decode::translate_lines(m, tr, {"Zzyzx s5 s6"}, opt, true);
  ASSERT_EQ(replaced[0].out_tokens.size(), 3u);
  for (const auto& t : replaced[0].out_tokens) EXPECT_EQ(t, "zzyzx");  // lowercasing model
  EXPECT_EQ(replaced[0].text, "zzyzx zzyzx zzyzx");
}

TEST(ReplaceUnk, FollowsTheAttentionArgmax) {
  auto m = unk_model();
  decode::Translator tr(m);
  decode::DecodeOptions opt;
  opt.max_len = 4;
  opt.keep_attention = true;
  const std::vector<std::string> words{"s7", "Müller", "s9", "s11", "Ötzi"};
  const auto r = decode::translate_lines(m, tr, {"s7 Müller s9 s11 Ötzi"}, opt, true);
  ASSERT_EQ(r[0].out_tokens.size(), 4u);
  const int S = (int)words.size() + 2;
  for (std::size_t t = 0; t < r[0].out_tokens.size(); ++t) {
    const float* a = r[0].hyp.attention.data() + t * S;
    int best = 1;
    for (int j = 1; j <= (int)words.size(); ++j)
      if (a[j] > a[best]) best = j;
    EXPECT_EQ(r[0].out_tokens[t], r[0].src_tokens[best - 1]) << "step " << t;
  }
  EXPECT_EQ(r[0].src_tokens[1], "müller");
}

#include "viz/walkthrough.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "decode/translator.h"
#include "model/seq2seq.h"

namespace nmt::viz {

using nlohmann::json;

namespace {

constexpr int kShow = 8;      // values shown of each vector
constexpr int kMaxSrc = 200;  // source tokens at most (like translate)
constexpr int kTop = 5;       // predictions shown per step

// The first kShow values and the L2 norm of a vector.
json vec(const float* x, int n) {
  double sq = 0;
  for (int i = 0; i < n; ++i) sq += (double)x[i] * x[i];
  return {{"first", std::vector<float>(x, x + std::min(n, kShow))}, {"norm", std::sqrt(sq)}};
}

json stage(const std::string& name, const std::string& title, std::vector<long> shape) {
  return {{"name", name}, {"title", title}, {"shape", shape}};
}

// The encoder's tensors and each decoder step's, as JSON, from the trace of one sentence.
class WalkTrace : public decode::TraceSink {
 public:
  WalkTrace(const model::Model& m, const std::vector<std::string>& src_tokens)
      : m_(m), src_tokens_(src_tokens) {}
  void encoder(const model::Encoder& enc, const std::vector<int>&) override {
    const auto& c = m_.config;
    const int S = enc.S, E = c.emb_dim, H = c.enc_hid_dim, C = 2 * H, D = c.dec_hid_dim;
    json emb = stage("embedded", "embeddings X = Emb_src[src]", {S, 1, E});
    json hs = stage("encoder_outputs", "encoder outputs Hs = [h_fwd ; h_bwd]", {S, 1, C});
    emb["rows"] = json::array();
    hs["rows"] = json::array();
    for (int t = 0; t < S; ++t) {
      emb["rows"].push_back(
          {{"token", src_tokens_[t]}, {"x", vec(enc.X.data() + (std::size_t)t * E, E)}});
      const float* h = enc.outputs.data() + (std::size_t)t * C;
      hs["rows"].push_back({{"token", src_tokens_[t]}, {"fwd", vec(h, H)}, {"bwd", vec(h + H, H)}});
    }
    json hn = stage("h_n", "final states: forward after the last token, backward after the first",
                    {2, 1, H});
    hn["fwd"] = vec(enc.hcat.data(), H);
    hn["bwd"] = vec(enc.hcat.data() + H, H);
    json s0 =
        stage("s0", "decoder initial state s0 = tanh(W_fc [h_n fwd ; h_n bwd] + b_fc)", {1, D});
    s0["s"] = vec(enc.s0.data(), D);
    encoder_stages = {emb, hs, hn, s0};
    S_ = S;
  }
  void step(const decode::StepTrace& s) override {
    const auto& c = m_.config;
    const int V = c.trg_vocab_size, D = c.dec_hid_dim, C = 2 * c.enc_hid_dim;
    const float* logits = s.buf->logits;
    const float mx = *std::max_element(logits, logits + V);
    double z = 0;
    for (int k = 0; k < V; ++k) z += std::exp((double)logits[k] - mx);
    std::vector<int> top(V);
    for (int k = 0; k < V; ++k) top[k] = k;
    std::partial_sort(top.begin(), top.begin() + std::min(kTop, V), top.end(), [&](int a, int b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    json preds = json::array();
    for (int k = 0; k < std::min(kTop, V); ++k)
      preds.push_back({{"token", m_.trg_vocab.token(top[k])},
                       {"logit", logits[top[k]]},
                       {"p", std::exp((double)logits[top[k]] - mx) / z}});
    steps.push_back({{"t", s.t},
                     {"input", m_.trg_vocab.token(s.y[0])},
                     {"query", vec(s.buf->q, D)},
                     {"attention", std::vector<float>(s.buf->attn, s.buf->attn + S_)},
                     {"context", vec(s.buf->ctx, C)},
                     {"state", vec(s.s_new, D)},
                     {"top", preds},
                     {"output", m_.trg_vocab.token(top[0])}});
  }
  json encoder_stages = json::array(), steps = json::array();

 private:
  const model::Model& m_;
  const std::vector<std::string>& src_tokens_;
  int S_ = 0;
};

}  // namespace

json walkthrough(const model::Model& m, const std::string& sentence, int max_len) {
  const auto& c = m.config;
  const int E = c.emb_dim, H = c.enc_hid_dim, D = c.dec_hid_dim, C = 2 * H;
  const int V = c.trg_vocab_size;
  auto toks = m.src_codec->tokenize(sentence);
  if (toks.empty()) throw Error("nothing to explain: the sentence has no tokens");
  if ((int)toks.size() > kMaxSrc) toks.resize(kMaxSrc);
  const std::vector<int> ids = m.src_vocab.encode(toks);
  const int S = (int)ids.size();
  // The codec's tokens (an unknown word shows as itself; its id is <unk>'s).
  std::vector<std::string> src_tokens{"<sos>"};
  src_tokens.insert(src_tokens.end(), toks.begin(), toks.end());
  src_tokens.push_back("<eos>");

  json out = {{"sizes",
               {{"E", E},
                {"H", H},
                {"D", D},
                {"Vs", c.src_vocab_size},
                {"Vt", V},
                {"parameters", model::parameter_count(c)}}},
              {"src_tokens", src_tokens},
              {"src_ids", ids}};

  // The translator's own greedy search over the sentence, traced (B = 1, dropout off).
  decode::Translator tr(m);
  WalkTrace trace(m, src_tokens);
  decode::DecodeOptions greedy;
  greedy.max_len = max_len;
  const auto hyp = tr.translate({ids}, greedy, &trace).at(0);
  out["encoder"] = trace.encoder_stages;
  out["steps"] = trace.steps;
  out["shapes"] = {{"query", {1, D}},
                   {"attention", {1, S}},
                   {"context", {1, C}},
                   {"state", {1, D}},
                   {"logits", {1, V}}};
  std::vector<std::string> out_tokens;
  for (int id : hyp.ids) out_tokens.push_back(m.trg_vocab.token(id));
  out["translation"] = m.trg_codec->detokenize(out_tokens);
  return out;
}

}  // namespace nmt::viz

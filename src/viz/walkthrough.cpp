#include "viz/walkthrough.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
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

}  // namespace

json walkthrough(const model::Model& m, const std::string& sentence, int max_len) {
  const auto& c = m.config;
  const auto& w = m.w;
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
  json stages = json::array();

  // Encoder (B = 1, dropout off as when translating).
  model::Encoder enc;
  enc.set_input(S, 1, ids.data(), &S);
  enc.forward(c, w, 0.0f, nullptr);
  json emb = stage("embedded", "embeddings X = Emb_src[src]", {S, 1, E});
  json hs = stage("encoder_outputs", "encoder outputs Hs = [h_fwd ; h_bwd]", {S, 1, C});
  emb["rows"] = json::array();
  hs["rows"] = json::array();
  for (int t = 0; t < S; ++t) {
    emb["rows"].push_back(
        {{"token", src_tokens[t]}, {"x", vec(enc.X.data() + (std::size_t)t * E, E)}});
    const float* h = enc.outputs.data() + (std::size_t)t * C;
    hs["rows"].push_back({{"token", src_tokens[t]}, {"fwd", vec(h, H)}, {"bwd", vec(h + H, H)}});
  }
  stages.push_back(emb);
  stages.push_back(hs);
  json hn = stage("h_n", "final states: forward after the last token, backward after the first",
                  {2, 1, H});
  hn["fwd"] = vec(enc.hcat.data(), H);
  hn["bwd"] = vec(enc.hcat.data() + H, H);
  stages.push_back(hn);
  json s0 = stage("s0", "decoder initial state s0 = tanh(W_fc [h_n fwd ; h_n bwd] + b_fc)", {1, D});
  s0["s"] = vec(enc.s0.data(), D);
  stages.push_back(s0);
  out["encoder"] = stages;

  // Greedy decoding, one step at a time, with the shared decoder step.
  std::vector<float> q(D), attn(S), ctx(C), x(E + C), gi(3 * D), gh(3 * D), cache(4 * D),
      o(D + C + E), logits(V), s(enc.s0.begin(), enc.s0.begin() + D), s_new(D);
  const model::DecoderStepBuffers buf{q.data(),  attn.data(),  ctx.data(), x.data(),     gi.data(),
                                      gh.data(), cache.data(), o.data(),   logits.data()};
  json steps = json::array();
  std::vector<std::string> out_tokens;
  int y = text::SOS;
  const auto mats = model::DecoderMatrices::of(c, w);
  for (int t = 0; t <= max_len; ++t) {
    model::decoder_step(c, w, enc, 1, nullptr, &y, nullptr, s.data(), s_new.data(), buf, mats);
    const float mx = *std::max_element(logits.begin(), logits.end());
    double z = 0;
    for (float l : logits) z += std::exp((double)l - mx);
    std::vector<int> top(V);
    for (int k = 0; k < V; ++k) top[k] = k;
    std::partial_sort(top.begin(), top.begin() + std::min(kTop, V), top.end(), [&](int a, int b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    json preds = json::array();
    for (int k = 0; k < std::min(kTop, V); ++k)
      preds.push_back({{"token", m.trg_vocab.token(top[k])},
                       {"logit", logits[top[k]]},
                       {"p", std::exp((double)logits[top[k]] - mx) / z}});
    const int next = top[0];
    steps.push_back({{"t", t},
                     {"input", m.trg_vocab.token(y)},
                     {"query", vec(q.data(), D)},
                     {"attention", attn},
                     {"context", vec(ctx.data(), C)},
                     {"state", vec(s_new.data(), D)},
                     {"top", preds},
                     {"output", m.trg_vocab.token(next)}});
    s = s_new;
    if (next == text::EOS) break;
    out_tokens.push_back(m.trg_vocab.token(next));
    y = next;
  }
  out["steps"] = steps;
  out["shapes"] = {{"query", {1, D}},
                   {"attention", {1, S}},
                   {"context", {1, C}},
                   {"state", {1, D}},
                   {"logits", {1, V}}};
  out["translation"] = m.trg_codec->detokenize(out_tokens);
  return out;
}

}  // namespace nmt::viz

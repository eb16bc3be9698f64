#pragma once
// The seed model (design §2): bidirectional GRU encoder, additive attention, GRU decoder.
// Encoder and the teacher-forced/free-running training graph with its exact backward.
#include <cstdint>
#include <vector>

#include "model/config.h"
#include "model/params.h"
#include "tensor/weight.h"
#include "text/batch.h"

namespace nmt {
class Rng;
}

namespace nmt::model {

// Encoder activations for one batch [S, B] (kept for the backward and for decoding).
struct Encoder {
  int S = 0, B = 0;
  std::vector<int> ids;             // [S,B]
  std::vector<int> len;             // [B]
  std::vector<unsigned char> mask;  // [S,B] 1 where t < len[b]
  std::vector<float> drop, X;       // [S,B,E] dropout mask, dropped embeddings
  std::vector<float> gi[2];         // [S,B,3H] input projections per direction
  std::vector<float> hprev[2];      // [S,B,H] state before time t (per direction)
  std::vector<float> cache[2];      // [S,B,4H] GRU gates
  std::vector<float> gh, h;         // [B,3H], [B,H] scratch
  std::vector<float> outputs;       // Hs [S,B,2H], zero at pad positions
  std::vector<float> hcat;          // [B,2H] = [h_fwd_last ; h_bwd_first]
  std::vector<float> s0;            // [B,D]
  std::vector<float> keys;          // [S,B,D] = Hs W_h^T + b_att (attention precomputation)
  // Tests only: a [S,B,E] dropout mask used instead of drawing one (set_dropout_masks).
  const float* given_drop = nullptr;
  // backward scratch
  std::vector<float> d_outputs, d_keys, dgi[2], dgh[2], dh, dh_direct, dX, dhcat;

  // Sets ids/len from a time-major [S,B] id array and the lengths [B].
  void set_input(int S, int B, const int* src, const int* src_len);
  // Runs the encoder (dropout p with rng when training; p = 0 for inference) with the matrices
  // mats (null: w's own, fp32, the exact model).
  void forward(const ModelConfig& c, const Weights& w, float p, Rng* rng,
               const struct EncoderMatrices* mats = nullptr);
  // Given d_outputs [S,B,2H], d_keys [S,B,D] (already filled) and ds0 [B,D]: accumulates grads.
  void backward(const ModelConfig& c, const Weights& w, const float* ds0, Weights& g);
};

// The encoder's matrices as Encoder::forward multiplies them: W_ih and W_hh per direction, fc
// (hcat -> s0) and W_h (the last 2H columns of W_att, making the attention keys).
struct EncoderMatrices {
  ops::WeightMatrix w_ih[2], w_hh[2], fc, att_wh;
  // The model's weights at precision p (fp32: views of w, no copy; the exact model).
  static EncoderMatrices of(const ModelConfig& c, const Weights& w,
                            ops::Precision p = ops::Precision::Fp32);
  // Rounds these matrices of w in place to what precision p computes with.
  static void round_in_place(const ModelConfig& c, const Weights& w, ops::Precision p);
};

// The decoder's four matrices as decoder_step multiplies them: W_s (the first D columns of
// W_att; W_h, which makes the keys, is the encoder's: EncoderMatrices::att_wh), W_ih, W_hh and
// fc_out. Both sets are made at the translator's precision (decode/translator.h).
struct DecoderMatrices {
  ops::WeightMatrix att_ws, w_ih, w_hh, out_w;
  // The model's weights at precision p (fp32: views of w, no copy; the exact model).
  static DecoderMatrices of(const ModelConfig& c, const Weights& w,
                            ops::Precision p = ops::Precision::Fp32);
  // Rounds these four matrices of w in place to what precision p computes with, so that fp32
  // scoring (teacher-forced loss) sees the model that p decodes with.
  static void round_in_place(const ModelConfig& c, const Weights& w, ops::Precision p);
};

// Where one decoder step for n rows writes (row-major, n rows each).
struct DecoderStepBuffers {
  float* q;       // [n,D] W_s s_prev (the attention query)
  float* attn;    // [n,S] attention weights
  float* ctx;     // [n,2H] context w
  float* x;       // [n,E+2H] GRU input [emb ; w]
  float* gi;      // [n,3D]
  float* gh;      // [n,3D]
  float* cache;   // [n,4D] GRU gates for the backward
  float* out;     // [n,D+2H+E] fc_out input [s_new ; w ; emb]
  float* logits;  // [n,Vt]
  // Traces only (decode/trace.h), else null: the attention energies [n,S,D] and scores [n,S].
  float* energy = nullptr;
  float* scores = nullptr;
};

// One decoder step (design §2) for n rows: row i continues state s_prev[i] from token y[i]
// (embedding dropout mask drop[i], or null), attending over encoder column cols[i] (cols null:
// column i). Writes s_new[n,D] and the buffers. Training and decoding share it. out_drop [n,LO]
// (training with --out-dropout only, else null) scales b.out, the output layer's input, in place.
void decoder_step(const ModelConfig& c, const Weights& w, const Encoder& enc, int n,
                  const int* cols, const int* y, const float* drop, const float* s_prev,
                  float* s_new, const DecoderStepBuffers& b, const DecoderMatrices& mats,
                  const float* out_drop = nullptr);

// One training/scoring pass over a batch with teacher-forcing coins, and its backward.
// Rows are internally ordered by target length (longest first) so that each decoder step works
// on the prefix of sentences still running: no compute or loss on padding.
class TrainingGraph {
 public:
  // coins[t] (t = 1..T-1): 1 feeds the reference token trg[t] to step t+1, 0 the model's argmax.
  // Returns the summed cross-entropy over non-pad target tokens (positions 1..T-1).
  double forward(const ModelConfig& c, const Weights& w, const text::Batch& batch,
                 const std::vector<unsigned char>& coins, float dropout, Rng* rng);
  // For tests against another implementation: the dropout masks the next forward() with
  // dropout > 0 uses instead of drawing them (values 0 or 1/(1-p)), by the batch's own columns:
  // src [S,B,E]; trg [T,B,E], whose row t scales the embedding fed to step t (row 0 unused);
  // out [T,B,D+2H+E] likewise for the output layer's input (set_output_dropout > 0).
  // Empty vectors restore drawing. Nothing else changes: the math is the same either way.
  void set_dropout_masks(std::vector<float> src, std::vector<float> trg,
                         std::vector<float> out = {});
  // The masks forward() would draw for this batch from rng (the same draws in the same order,
  // so rng ends where forward() would leave it), laid out as set_dropout_masks takes them
  // (embedding dropout p, output dropout p_out; a mask of rate 0 is left empty). A
  // data-parallel run draws them for the whole batch on every rank and gives each rank's shard
  // its columns: the masks then do not depend on how the batch is split.
  static void draw_dropout_masks(const ModelConfig& c, const text::Batch& batch, float p,
                                 float p_out, Rng& rng, std::vector<float>& src,
                                 std::vector<float>& trg, std::vector<float>& out);
  // Gradient of (summed loss * scale) accumulated into g (call after forward).
  void backward(const ModelConfig& c, const Weights& w, Weights& g, float scale);

  long tokens() const { return N_; }
  // Label smoothing of the loss (layers::softmax_ce_forward); 0, the default, is the seed's.
  void set_label_smoothing(float ls) { ls_ = ls; }
  // Dropout on the output layer's input [s_new ; w ; emb] of every decoder step (--out-dropout);
  // 0, the default, is the seed's model (no mask, no draws).
  void set_output_dropout(float p) { out_p_ = p; }
  // Views for tests and `nmt explain`, by the batch's own column b.
  const float* logits(int t, int b) const;          // [Vt], only for t < trg_len[b]
  const float* attention(int t, int b) const;       // [S]
  const float* encoder_output(int j, int b) const;  // [2H]
  const float* s0(int b) const;                     // [D]
  const Encoder& encoder() const { return enc_; }

 private:
  // forward()'s phases, in order.
  void encode(const ModelConfig& c, const Weights& w, const text::Batch& batch, float dropout,
              Rng* rng);
  void plan_steps(const text::Batch& batch);
  void draw_step_masks(const ModelConfig& c, float dropout, Rng* rng);
  double decode_steps(const ModelConfig& c, const Weights& w,
                      const std::vector<unsigned char>& coins);

  Encoder enc_;
  int S_ = 0, T_ = 0, B_ = 0, V_ = 0, C_ = 0, D_ = 0;
  long N_ = 0;
  float ls_ = 0.0f, out_p_ = 0.0f;
  std::vector<int> order_, row_of_;  // internal row -> batch column, and back
  std::vector<int> n_, r_;           // active rows and row offset of each step t
  std::vector<int> trg_;             // [T,B] internal order
  std::vector<int> y_in_, target_;   // [N]
  std::vector<float> drop_, s_prev_, cache_, q_, attn_, x_, out_, logits_, lse_;
  std::vector<float> s_, gi_, gh_, ctx_;
  std::vector<float> out_drop_;  // [N, D+2H+E] output dropout mask (empty: none)
  std::vector<float> given_src_drop_, given_trg_drop_, given_out_drop_,
      given_src_ordered_;  // set_dropout_masks
  // backward
  std::vector<float> dout_, dgi_, dgh_, dq_, ds_, ds_prev_, dx_, dctx_, de_;
};

}  // namespace nmt::model

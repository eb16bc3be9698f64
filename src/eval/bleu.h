#pragma once
// sacreBLEU-compatible corpus BLEU (design §5: `nmt bleu`, the `bleu` / `bleu_tok` of `nmt eval`).
//
// The defaults reproduce `sacrebleu.corpus_bleu(hyps, [refs])` (sacreBLEU 2.x) exactly: each
// segment is right-stripped, optionally lowercased (Python's str.lower()), tokenized with the
// mteval-v13a tokenizer, split on (Unicode) whitespace; n-grams up to order 4 are clipped against
// the reference(s), the closest reference length (ties → shorter) feeds the brevity penalty,
// precisions of orders with no match are smoothed by sacreBLEU's 'exp' method (NIST: the k-th
// such order gets 1 / (2^k · total)), effective order is off, and a corpus with no matching
// unigram at all scores 0. The other sacreBLEU smoothing methods, max orders, effective order
// and multiple references are available through BleuOptions (used to port sacreBLEU's tests).
#include <string>
#include <string_view>
#include <vector>

namespace nmt::eval {

enum class Smooth { Exp, Floor, AddK, None };

struct BleuOptions {
  bool lowercase = false;    // sacreBLEU -lc
  bool tokenize_13a = true;  // false: sacreBLEU `tokenize='none'` (inputs already tokenized)
  Smooth smooth = Smooth::Exp;
  double smooth_value = -1;  // < 0: sacreBLEU's default for the method (floor 0.1, add-k 1)
  int max_order = 4;
  bool effective_order = false;
};

struct BleuStats {
  double bleu = 0;                 // 0..100
  std::vector<double> precisions;  // max_order entries, in percent (smoothed as sacreBLEU does)
  double bp = 1;                   // brevity penalty
  double ratio = 0;                // sys_len / ref_len (0 when ref_len == 0)
  long sys_len = 0, ref_len = 0;
  std::vector<long> matches, totals;  // clipped matching / total hypothesis n-grams per order
};

// Corpus BLEU of hyps against one reference per hypothesis. Throws nmt::Error on a count mismatch.
BleuStats corpus_bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                      bool lowercase = false, bool tokenize_13a = true);

// sacreBLEU's general form: ref_streams[k][i] is the k-th reference of hyps[i] (every stream must
// have hyps.size() lines).
BleuStats corpus_bleu(const std::vector<std::string>& hyps,
                      const std::vector<std::vector<std::string>>& ref_streams,
                      const BleuOptions& opts);

// BLEU from sufficient statistics (sacreBLEU's BLEU.compute_bleu); matches/totals have
// opts.max_order entries. Only opts.smooth, smooth_value, max_order, effective_order are used.
BleuStats compute_bleu(const std::vector<long>& matches, const std::vector<long>& totals,
                       long sys_len, long ref_len, const BleuOptions& opts = {});

// The mteval-v13a tokenization of one segment (sacreBLEU's Tokenizer13a), tokens joined by ' '.
std::string tokenize_13a(std::string_view line);

// Python's str.lower() on UTF-8 text: every code point maps as in Python 3.11 (Unicode 14), İ → i̇;
// capital sigma → ς in the final-sigma context, whose Cased / Case_Ignorable neighbours are
// approximated (exact for letters with case, apostrophes, periods and Greek/Latin diacritics).
// Invalid UTF-8 bytes are copied through unchanged.
std::string lowercase_utf8(std::string_view s);

// One JSON line (no trailing newline): {"bleu", "precisions": [..], "bp", "ratio", "sys_len",
// "ref_len"}.
std::string bleu_json(const BleuStats& s);

}  // namespace nmt::eval

#pragma once
// Fuzz harness bodies, shared by the libFuzzer entry points (fuzz/fuzz_*.cpp, built by
// tools/fuzz.sh with clang) and the regression replay (tests/test_fuzz_regressions.cpp, built
// with the regular test suite), so CI replays every saved input through the same checks.
//
// Contract: a harness returns normally when the code under test behaved, i.e. it either
// succeeded with a result that satisfies the invariants checked here, or threw nmt::Error (a
// clean user-facing failure). Anything else is a bug: an invariant violation throws
// nmt::fuzz::Failure; any other exception (std::out_of_range, nlohmann::json::exception, ...)
// is left to escape; crashes and sanitizer reports are reported by the sanitizers.
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/params.h"
#include "model/safetensors.h"
#include "text/corpus.h"
#include "text/html.h"
#include "text/segment.h"
#include "text/tokenizer.h"

namespace nmt::fuzz {

// An invariant of the code under test does not hold (deliberately not an nmt::Error).
struct Failure : std::logic_error {
  using std::logic_error::logic_error;
};

#define NMT_FUZZ_CHECK(cond, msg)                                                       \
  do {                                                                                  \
    if (!(cond))                                                                        \
      throw ::nmt::fuzz::Failure(std::string(__FILE__ ":") + std::to_string(__LINE__) + \
                                 ": check failed: " #cond ": " + (msg));                \
  } while (0)

// Printable form of bytes for failure messages: C-style escapes, at most max bytes.
inline std::string escaped(std::string_view s, std::size_t max = 200) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b == '\\' || b == '"') {
      out += '\\';
      out += static_cast<char>(b);
    } else if (b >= 0x20 && b < 0x7f) {
      out += static_cast<char>(b);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", b);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return '"' + out + '"';
}

// ---------------------------------------------------------------------------------------------
// Scratch files: one fixed path per process and name (reused by every input, removed at exit).

class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) {
    const char* base = std::getenv("TMPDIR");
    path_ = std::string(base && *base ? base : "/tmp") + "/nmt-fuzz-" + std::to_string(::getpid()) +
            "-" + name;
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& write(std::string_view bytes) const {
    // A fresh file each time: truncating a written file makes ext4 flush it on close
    // (auto_da_alloc), which slows the fuzzers down to disk speed.
    std::remove(path_.c_str());
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f) throw std::runtime_error(path_ + ": cannot create scratch file");
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !ok) throw std::runtime_error(path_ + ": cannot write scratch file");
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The scratch file `name` of this process.
inline const ScratchFile& scratch(const std::string& name) {
  static std::map<std::string, ScratchFile> files;
  auto it = files.find(name);
  if (it == files.end()) it = files.try_emplace(name, name).first;
  return it->second;
}

// ---------------------------------------------------------------------------------------------
// fuzz_tokenizer: first byte picks the language (bit 0), the rest is one line of text.

// Code points tokenize() splits at (tokenizer.cpp is_space): none may end up inside a token.
inline bool tokenizer_space(std::uint32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200B) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000 || c == 0xFEFF;
}

// Code points of valid UTF-8.
inline std::vector<std::uint32_t> code_points(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const std::size_t len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    std::uint32_t cp = len == 1 ? b : b & (0x7F >> len);
    for (std::size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += len;
  }
  return out;
}

inline void fuzz_tokenizer(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const text::Lang lang = (data[0] & 1) ? text::Lang::En : text::Lang::De;
  const std::string_view line(reinterpret_cast<const char*>(data) + 1, size - 1);
  // The corpus reader rejects invalid UTF-8 before anything is tokenized.
  if (!text::is_valid_utf8(line)) return;
  for (const bool lower : {false, true}) {
    const std::vector<std::string> tokens = text::tokenize(line, lang, lower);
    for (const std::string& t : tokens) {
      NMT_FUZZ_CHECK(!t.empty(), "empty token from " + escaped(line));
      NMT_FUZZ_CHECK(text::is_valid_utf8(t), "token " + escaped(t) + " is not valid UTF-8");
      for (const std::uint32_t cp : code_points(t))
        NMT_FUZZ_CHECK(!tokenizer_space(cp), "token " + escaped(t) + " contains whitespace");
    }
    NMT_FUZZ_CHECK(text::tokenize(line, lang, lower) == tokens,
                   "tokenize is not deterministic on " + escaped(line));
    for (const text::Lang out_lang : {text::Lang::De, text::Lang::En}) {
      const std::string detok = text::detokenize(tokens, out_lang);
      NMT_FUZZ_CHECK(text::is_valid_utf8(detok),
                     "detokenize gave invalid UTF-8 " + escaped(detok) + " for " + escaped(line));
      NMT_FUZZ_CHECK(tokens.empty() == detok.empty(), "detokenize lost or invented text");
    }
  }
  (void)text::to_lower(line);
}

// ---------------------------------------------------------------------------------------------
// fuzz_segment: first byte picks the language (de, en, or one ICU has no data for), the rest is
// a text. Sentences are ordered, disjoint, trimmed, non-empty ranges; nothing between them but
// whitespace; paragraphs and lines cover the text the same way; clause pieces stay inside their
// sentence, in order, each fitting the limit unless it has no cut point.

inline bool only_space(std::string_view s) {
  return s.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
}

inline void check_spans(std::string_view text, const std::vector<text::Span>& spans,
                        const std::string& what, bool whitespace_between) {
  std::size_t at = 0;
  for (const auto& s : spans) {
    // (Lines may be empty; sentences and paragraphs may not.)
    NMT_FUZZ_CHECK(s.begin >= at && (s.begin < s.end || !whitespace_between) && s.begin <= s.end &&
                       s.end <= text.size(),
                   what + ": span out of order or empty in " + escaped(text));
    if (whitespace_between)
      NMT_FUZZ_CHECK(only_space(text.substr(at, s.begin - at)),
                     what + ": text lost between spans in " + escaped(text));
    at = s.end;
  }
  if (whitespace_between)
    NMT_FUZZ_CHECK(only_space(text.substr(at)), what + ": text lost at the end of " + escaped(text));
}

inline void fuzz_segment(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  static const text::SentenceSplitter de("de"), en("en"), xx("xx");
  const text::SentenceSplitter& splitter = data[0] % 3 == 0 ? de : data[0] % 3 == 1 ? en : xx;
  const std::string_view t(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (!text::is_valid_utf8(t)) return;
  const auto sentences = splitter.split(t);
  check_spans(t, sentences, "split", true);
  for (const auto& s : sentences)
    NMT_FUZZ_CHECK(!std::isspace((unsigned char)t[s.begin]) &&
                       !std::isspace((unsigned char)t[s.end - 1]),
                   "a sentence is not trimmed in " + escaped(t));
  check_spans(t, text::paragraph_spans(t), "paragraph_spans", true);
  check_spans(t, text::line_spans(t), "line_spans", false);
  auto words = [](std::string_view s) { return (int)(s.size() / 4 + 1); };
  for (const auto& s : sentences) {
    const std::string_view sentence = t.substr(s.begin, s.end - s.begin);
    const auto pieces = text::split_clauses(sentence, 3, words);
    check_spans(sentence, pieces, "split_clauses", true);
  }
}

// ---------------------------------------------------------------------------------------------
// fuzz_html: the bytes as an HTML document (valid UTF-8, as the CLI and server require).
// parse_html gives runs of valid UTF-8 whose tags lie inside the text and nest, or nmt::Error.

inline void fuzz_html(const std::uint8_t* data, std::size_t size) {
  const std::string_view h(reinterpret_cast<const char*>(data), size);
  if (!text::is_valid_utf8(h)) return;
  text::HtmlDocument doc;
  try {
    doc = text::parse_html(h, 64);
  } catch (const Error&) {
    return;  // too deep: refused with one line
  }
  int runs = 0;
  for (const auto& p : doc.pieces) runs += p.run >= 0;
  NMT_FUZZ_CHECK(runs == (int)doc.runs.size(), "a run is not placed exactly once");
  for (const auto& r : doc.runs) {
    NMT_FUZZ_CHECK(text::is_valid_utf8(r.text), "a run's text is not UTF-8: " + escaped(r.text));
    for (std::size_t k = 0; k < r.tags.size(); ++k) {
      const auto& t = r.tags[k];
      NMT_FUZZ_CHECK(t.begin <= t.end && t.end <= r.text.size(), "a tag outside its run");
      for (std::size_t p = 0; p < k; ++p) {
        const auto& q = r.tags[p];
        const bool nested = q.begin <= t.begin && t.end <= q.end;
        const bool apart = q.end <= t.begin || t.end <= q.begin;
        NMT_FUZZ_CHECK(nested || apart, "tags overlap without nesting in " + escaped(h));
      }
    }
  }
  (void)text::escape_html(h);
}

// ---------------------------------------------------------------------------------------------
// fuzz_corpus: the bytes as a plain (or, with 1f 8b magic, gzip) file; gzip-compressed in one
// and in two members (must read the same); split in two files for read_parallel.

inline bool has_gzip_magic(std::string_view s) {
  return s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f &&
         static_cast<unsigned char>(s[1]) == 0x8b;
}

// One gzip member holding s.
inline std::string gzip_member(std::string_view s) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  std::string out(deflateBound(&zs, static_cast<uLong>(s.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  zs.avail_in = static_cast<uInt>(s.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(out.size() - zs.avail_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

// Reference for read_lines on a plain file: BOM dropped, split at '\n', one '\r' stripped.
inline std::vector<std::string> reference_lines(std::string_view s) {
  if (s.substr(0, 3) == "\xef\xbb\xbf") s.remove_prefix(3);
  std::vector<std::string> lines;
  while (!s.empty()) {
    const std::size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s.remove_prefix(nl == std::string_view::npos ? s.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
  }
  return lines;
}

// read_lines(path): true and the lines, or false when it threw nmt::Error.
inline bool try_read_lines(const std::string& path, std::vector<std::string>* lines) {
  try {
    *lines = text::read_lines(path);
  } catch (const Error&) {
    return false;
  }
  for (const auto& l : *lines) {
    NMT_FUZZ_CHECK(l.find('\n') == std::string::npos, "line with a newline: " + escaped(l));
    NMT_FUZZ_CHECK(text::is_valid_utf8(l), "read_lines returned invalid UTF-8: " + escaped(l));
  }
  return true;
}

// Is the whitespace-only test of read_parallel (ASCII whitespace and NBSP) true for s?
inline bool blank_line(std::string_view s) {
  for (const std::uint32_t cp : code_points(s))
    if (!(cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xA0)) return false;
  return true;
}

inline void fuzz_corpus(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const ScratchFile& plain = scratch("corpus.txt");
  std::vector<std::string> lines;
  const bool plain_ok = try_read_lines(plain.write(bytes), &lines);
  if (!has_gzip_magic(bytes)) {
    NMT_FUZZ_CHECK(plain_ok == text::is_valid_utf8(bytes),
                   std::string("read_lines ") + (plain_ok ? "accepted" : "rejected") +
                       " a file whose UTF-8 validity is " + (plain_ok ? "false" : "true"));
    if (plain_ok)
      NMT_FUZZ_CHECK(lines == reference_lines(bytes), "read_lines split the lines wrongly");
    // The same text gzipped: one member, two members (cut at the middle) and zero padding.
    const std::size_t cut = size / 2;
    const std::string one = gzip_member(bytes);
    const std::string two = gzip_member(bytes.substr(0, cut)) + gzip_member(bytes.substr(cut));
    for (const std::string& gz : {one, two, one + std::string(7, '\0')}) {
      std::vector<std::string> gz_lines;
      const bool gz_ok = try_read_lines(scratch("corpus.txt.gz").write(gz), &gz_lines);
      NMT_FUZZ_CHECK(gz_ok == plain_ok, "gzip and plain files disagree on validity");
      NMT_FUZZ_CHECK(!gz_ok || gz_lines == lines, "gzip and plain files give different lines");
    }
  }

  // Parallel corpus: source = bytes before the first NUL (or the first half), target = the rest.
  const std::size_t nul = bytes.find('\0');
  const std::size_t split = nul == std::string_view::npos ? size / 2 : nul;
  const std::string_view src = bytes.substr(0, split);
  const std::string_view trg = bytes.substr(split + (nul == std::string_view::npos ? 0 : 1));
  const std::string& src_path = scratch("par.src").write(src);
  const std::string& trg_path = scratch("par.trg").write(trg);
  std::vector<std::string> src_lines, trg_lines;
  const bool expect_ok = try_read_lines(src_path, &src_lines) &&
                         try_read_lines(trg_path, &trg_lines) &&
                         src_lines.size() == trg_lines.size();
  text::ParallelCorpus pc;
  try {
    pc = text::read_parallel(src_path, trg_path);
  } catch (const Error&) {
    NMT_FUZZ_CHECK(!expect_ok, "read_parallel threw on two readable files of equal length");
    return;
  }
  NMT_FUZZ_CHECK(expect_ok,
                 "read_parallel accepted files that read_lines rejects or that differ "
                 "in length");
  NMT_FUZZ_CHECK(pc.src.size() == pc.trg.size(), "read_parallel result is not aligned");
  NMT_FUZZ_CHECK(pc.src.size() + pc.skipped_empty == src_lines.size(),
                 "kept + skipped != lines read");
  // Kept pairs are exactly the pairs where neither side is blank, in order.
  std::size_t kept = 0;
  for (std::size_t i = 0; i < src_lines.size(); ++i) {
    if (blank_line(src_lines[i]) || blank_line(trg_lines[i])) continue;
    NMT_FUZZ_CHECK(
        kept < pc.src.size() && pc.src[kept] == src_lines[i] && pc.trg[kept] == trg_lines[i],
        "read_parallel dropped or changed pair " + std::to_string(i + 1));
    ++kept;
  }
  NMT_FUZZ_CHECK(kept == pc.src.size(), "read_parallel kept a blank pair");
}

// ---------------------------------------------------------------------------------------------
// fuzz_safetensors: the bytes as a .safetensors file; every tensor read back and checked
// against the file; load_params with the tiny checkpoint's configuration.

// The configuration the fuzz corpus's tiny_ckpt_* seeds were cut from (tests/golden/tiny_ckpt
// before it was regenerated with distinct sizes): vocab 40/30, emb 8, hid 12.
inline model::ModelConfig tiny_config() {
  model::ModelConfig c = model::ModelConfig::seed(40, 30);
  c.emb_dim = 8;
  c.enc_hid_dim = 12;
  c.dec_hid_dim = 12;
  return c;
}

// Do the raw.size() bytes at p equal raw? (memcmp must not see a null pointer, even for 0 bytes.)
inline bool same_bytes(const void* p, std::string_view raw) {
  return raw.empty() || std::memcmp(p, raw.data(), raw.size()) == 0;
}

inline void fuzz_safetensors(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string& path = scratch("model.safetensors").write(bytes);
  try {
    const model::SafeTensors st = model::SafeTensors::load(path);
    NMT_FUZZ_CHECK(size >= 8, "accepted a file shorter than its length prefix");
    std::uint64_t header_len = 0;
    for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
    NMT_FUZZ_CHECK(header_len <= size - 8, "accepted a header longer than the file");
    const std::string_view payload = bytes.substr(8 + header_len);
    for (const auto& [name, view] : st.tensors()) {
      const model::TensorView& v = st.info(name);
      NMT_FUZZ_CHECK(&v == &view, "info('" + name + "') is not the listed tensor");
      NMT_FUZZ_CHECK(v.begin <= v.end && v.end <= payload.size(),
                     "tensor '" + name + "' lies outside the data section");
      // The byte range must hold exactly prod(shape) elements (computed without overflow).
      const std::size_t es = model::dtype_size(v.dtype);
      NMT_FUZZ_CHECK(es != 0, "tensor '" + name + "' has unknown dtype " + escaped(v.dtype));
      // 128-bit product, capped at 2^65 ("too big"); a zero dimension makes it 0 regardless.
      unsigned __int128 want = es;
      const unsigned __int128 too_big = static_cast<unsigned __int128>(1) << 65;
      bool zero = false;
      for (const std::int64_t d : v.shape) {
        NMT_FUZZ_CHECK(d >= 0, "tensor '" + name + "' has a negative dimension");
        zero = zero || d == 0;
        want = std::min(want * static_cast<std::uint64_t>(d), too_big);
      }
      if (zero) want = 0;
      const bool overflow = want > (static_cast<unsigned __int128>(1) << 64);
      NMT_FUZZ_CHECK(
          !overflow && want == v.end - v.begin,
          "tensor '" + name + "': " + std::to_string(v.end - v.begin) +
              " data bytes accepted for a shape that needs " +
              (overflow ? std::string("more than 2^64") : std::to_string((std::uint64_t)want)));
      const std::string_view raw = payload.substr(v.begin, v.end - v.begin);
      try {
        const std::vector<float> f = st.f32(name);
        NMT_FUZZ_CHECK(v.dtype == "F32", "f32() accepted dtype " + escaped(v.dtype));
        NMT_FUZZ_CHECK(f.size() * 4 == raw.size() && same_bytes(f.data(), raw),
                       "f32('" + name + "') differs from the file's bytes");
        std::vector<float> g(f.size() + 1);
        st.read_f32(name, v.shape, g.data());
        NMT_FUZZ_CHECK(same_bytes(g.data(), raw),
                       "read_f32('" + name + "') differs from the file's bytes");
      } catch (const Error&) {
        NMT_FUZZ_CHECK(v.dtype != "F32", "f32('" + name + "') threw for an F32 tensor");
      }
      try {
        const std::vector<std::int32_t> i = st.i32(name);
        NMT_FUZZ_CHECK(v.dtype == "I32", "i32() accepted dtype " + escaped(v.dtype));
        NMT_FUZZ_CHECK(i.size() * 4 == raw.size() && same_bytes(i.data(), raw),
                       "i32('" + name + "') differs from the file's bytes");
      } catch (const Error&) {
        NMT_FUZZ_CHECK(v.dtype != "I32", "i32('" + name + "') threw for an I32 tensor");
      }
    }
    // The spec: the data section is entirely indexed, with no holes and no overlaps.
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    for (const auto& [name, v] : st.tensors()) ranges.push_back({v.begin, v.end});
    std::sort(ranges.begin(), ranges.end());
    std::size_t covered = 0;
    for (const auto& [b, e] : ranges) {
      NMT_FUZZ_CHECK(b == covered, "accepted a data section with a hole or overlapping tensors");
      covered = e;
    }
    NMT_FUZZ_CHECK(covered == payload.size(), "accepted data bytes that belong to no tensor");
  } catch (const Error&) {
  }

  const model::ModelConfig c = tiny_config();
  std::size_t total = 0;
  const auto table = model::param_table(c, &total);
  model::ParamBuffer params(total);
  try {
    model::load_params(path, c, params.data());
  } catch (const Error&) {
  }
}

// ---------------------------------------------------------------------------------------------
// fuzz_config: the bytes as config.json, parsed in memory and through read_json_file, then
// ModelConfig::from_json; an accepted configuration must be exactly what the JSON says.

inline void check_config(const nlohmann::json& j) {
  model::ModelConfig c;
  try {
    c = model::ModelConfig::from_json(j, "config.json");
  } catch (const Error&) {
    return;
  }
  // Accepted: every field must hold the JSON value itself (no silent wrap-around or rounding).
  NMT_FUZZ_CHECK(j.at("format") == "nmt-seq2seq", "accepted format " + j.at("format").dump());
  NMT_FUZZ_CHECK(j.at("version") == 1, "accepted version " + j.at("version").dump());
  const std::pair<const char*, int> ints[] = {{"src_vocab_size", c.src_vocab_size},
                                              {"trg_vocab_size", c.trg_vocab_size},
                                              {"emb_dim", c.emb_dim},
                                              {"enc_hid_dim", c.enc_hid_dim},
                                              {"dec_hid_dim", c.dec_hid_dim}};
  for (const auto& [key, value] : ints) {
    NMT_FUZZ_CHECK(value > 0, std::string(key) + " accepted as " + std::to_string(value));
    NMT_FUZZ_CHECK(j.at(key) == value, std::string(key) + " " + j.at(key).dump() + " was read as " +
                                           std::to_string(value));
  }
  NMT_FUZZ_CHECK(c.dropout >= 0.0f && c.dropout < 1.0f, "dropout accepted outside [0, 1)");
  NMT_FUZZ_CHECK(j.at("src_lang") == c.src_lang && j.at("trg_lang") == c.trg_lang &&
                     j.at("lowercase") == c.lowercase,
                 "a string/bool field was not read as written");
  // Round trip through to_json.
  model::ModelConfig d;
  try {
    d = model::ModelConfig::from_json(c.to_json(), "round trip");
  } catch (const Error& e) {
    NMT_FUZZ_CHECK(false, std::string("to_json output rejected: ") + e.what());
  }
  NMT_FUZZ_CHECK(d.to_json() == c.to_json(), "to_json/from_json round trip changed the config");
}

inline void fuzz_config(const std::uint8_t* data, std::size_t size) {
  // In memory: nlohmann's own parse errors (allow_exceptions = false) are not ours to judge.
  const nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (!j.is_discarded()) check_config(j);
  // As a file, the way load_model reads config.json: only nmt::Error may come out.
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json from_file;
  try {
    from_file = model::read_json_file(scratch("config.json").write(bytes));
  } catch (const Error&) {
    NMT_FUZZ_CHECK(j.is_discarded(), "read_json_file rejected JSON that parses in memory");
    return;
  }
  NMT_FUZZ_CHECK(!j.is_discarded() && from_file == j,
                 "read_json_file and in-memory parsing disagree");
  check_config(from_file);
}

}  // namespace nmt::fuzz

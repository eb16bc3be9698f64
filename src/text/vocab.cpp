// Vocabulary (design §1): fixed specials, then words by descending count, ties in byte order.
#include "text/vocab.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

#include "common/atomic_file.h"
#include "common/error.h"
#include "text/corpus.h"

namespace nmt::text {
namespace {

constexpr std::array<const char*, 4> kSpecials = {"<unk>", "<pad>", "<sos>", "<eos>"};

}  // namespace

Vocab Vocab::build(const std::vector<std::vector<std::string>>& sentences, int min_freq) {
  std::unordered_map<std::string, long long> counts;
  for (const auto& sentence : sentences)
    for (const auto& token : sentence) ++counts[token];
  return from_counts(counts, min_freq);
}

Vocab Vocab::from_counts(const std::unordered_map<std::string, long long>& counts, int min_freq) {
  std::vector<std::pair<std::string, long long>> words;
  for (auto& [token, count] : counts) {
    const bool special = std::find(kSpecials.begin(), kSpecials.end(), token) != kSpecials.end();
    if (count >= min_freq && !special) words.emplace_back(token, count);
  }
  // std::string compares through char_traits<char>, i.e. as unsigned bytes (memcmp order).
  std::sort(words.begin(), words.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });

  Vocab v;
  v.tokens_.reserve(kSpecials.size() + words.size());
  for (const char* special : kSpecials) v.tokens_.emplace_back(special);
  for (auto& w : words) v.tokens_.push_back(std::move(w.first));
  for (int i = 0; i < v.size(); ++i) v.index_.emplace(v.tokens_[i], i);
  return v;
}

Vocab Vocab::load(const std::string& path) {
  std::vector<std::string> lines = read_lines(path);
  if (lines.empty()) throw Error(path + ": empty vocabulary file");
  return from_tokens(std::move(lines), path);
}

Vocab Vocab::from_tokens(std::vector<std::string> tokens, const std::string& what) {
  Vocab v;
  v.tokens_.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string where = what + ":" + std::to_string(i + 1) + ": ";
    std::string& token = tokens[i];
    if (i < kSpecials.size() && token != kSpecials[i]) {
      throw Error(where + "expected special token " + kSpecials[i] + " at id " + std::to_string(i) +
                  ", found '" + token + "'");
    }
    if (token.empty()) throw Error(where + "empty token");
    const auto [it, inserted] = v.index_.emplace(token, static_cast<int>(i));
    if (!inserted) {
      throw Error(where + "duplicate token '" + token + "' (first at line " +
                  std::to_string(it->second + 1) + ")");
    }
    v.tokens_.push_back(std::move(token));
  }
  if (v.tokens_.size() < kSpecials.size()) {
    throw Error(what + ": vocabulary has " + std::to_string(v.tokens_.size()) +
                " lines, expected at least the 4 special tokens");
  }
  return v;
}

void Vocab::save(const std::string& path) const {
  for (const auto& token : tokens_) {
    if (token.empty() || token.find_first_of("\r\n") != std::string::npos)
      throw Error(path + ": cannot save token '" + token + "' (empty or contains a line break)");
  }
  std::string text;
  for (const auto& token : tokens_) text += token + '\n';
  write_file_atomic(path, text);
}

int Vocab::id(const std::string& token) const {
  const auto it = index_.find(token);
  return it == index_.end() ? UNK : it->second;
}

const std::string& Vocab::token(int id) const {
  if (id < 0 || id >= size()) {
    throw Error("token id " + std::to_string(id) + " out of range for a vocabulary of " +
                std::to_string(size()));
  }
  return tokens_[static_cast<std::size_t>(id)];
}

std::vector<int> Vocab::encode(const std::vector<std::string>& tokens) const {
  std::vector<int> ids;
  ids.reserve(tokens.size() + 2);
  ids.push_back(SOS);
  for (const auto& t : tokens) ids.push_back(id(t));
  ids.push_back(EOS);
  return ids;
}

std::vector<std::string> Vocab::decode(const std::vector<int>& ids) const {
  std::vector<std::string> tokens;
  for (int i : ids) {
    if (i == EOS) break;
    if (i == SOS || i == PAD) continue;
    tokens.push_back(token(i));
  }
  return tokens;
}

}  // namespace nmt::text

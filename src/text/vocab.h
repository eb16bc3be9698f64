#pragma once
// Vocabulary (design §1): 0 <unk>, 1 <pad>, 2 <sos>, 3 <eos>, then words by descending count,
// ties in byte order; only words seen at least min_freq times.
#include <string>
#include <unordered_map>
#include <vector>

namespace nmt::text {

constexpr int UNK = 0, PAD = 1, SOS = 2, EOS = 3;

class Vocab {
 public:
  static Vocab build(const std::vector<std::vector<std::string>>& sentences, int min_freq = 2);
  static Vocab from_counts(const std::unordered_map<std::string, long long>& counts, int min_freq);
  static Vocab load(const std::string& path);  // one token per line, id = line number
  // From tokens in id order (the specials first); `what` names the source in errors.
  static Vocab from_tokens(std::vector<std::string> tokens, const std::string& what);
  void save(const std::string& path) const;  // atomic: temp file + rename

  int size() const { return static_cast<int>(tokens_.size()); }
  int id(const std::string& token) const;  // UNK when absent
  const std::string& token(int id) const;
  // <sos> ids... <eos>
  std::vector<int> encode(const std::vector<std::string>& tokens) const;
  // Tokens up to the first <eos>, skipping <sos>/<pad>.
  std::vector<std::string> decode(const std::vector<int>& ids) const;

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> index_;
};

}  // namespace nmt::text

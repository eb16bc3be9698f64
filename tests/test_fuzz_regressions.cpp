// Replays the fuzzers' inputs through the fuzz harness bodies (fuzz/harness.h) in the regular
// test build: every seed in fuzz/corpus/TARGET/ and every saved finding in
// fuzz/regressions/TARGET/. An input passes when the code under test either succeeds with a
// result that meets the harness's invariants or fails with nmt::Error. Inputs that still
// trigger an unfixed bug are listed in kKnownBugs and replayed by their own skipped tests.
#include <cxxabi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>

#include "../fuzz/harness.h"

namespace {

namespace fs = std::filesystem;

using Harness = void (*)(const std::uint8_t*, std::size_t);

struct Target {
  const char* name;
  Harness run;
};
const Target kTargets[] = {{"tokenizer", nmt::fuzz::fuzz_tokenizer},
                           {"corpus", nmt::fuzz::fuzz_corpus},
                           {"safetensors", nmt::fuzz::fuzz_safetensors},
                           {"config", nmt::fuzz::fuzz_config},
                           {"segment", nmt::fuzz::fuzz_segment},
                           {"html", nmt::fuzz::fuzz_html}};

// Files under fuzz/regressions/ (TARGET/NAME) that still hit an unfixed bug in src/: the
// replay-all test leaves them out (some abort under UBSan); each is replayed by its own
// GTEST_SKIP'ed test below. When a bug is fixed, delete that GTEST_SKIP line and the entries
// here.
const std::set<std::string> kKnownBugs = {};

std::string repo_path(const std::string& rel) {
#ifdef NMT_SOURCE_DIR
  return std::string(NMT_SOURCE_DIR) + "/" + rel;
#else
  return rel;
#endif
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot open");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string demangle(const char* name) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                           std::free);
  return status == 0 && d ? d.get() : name;
}

// "" when the harness accepts the input, else what went wrong (crashes and sanitizer reports
// end the test binary instead; CI runs the suite with and without ASan + UBSan).
std::string replay(Harness run, const std::string& bytes) {
  try {
    run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return "";
  } catch (const nmt::fuzz::Failure& e) {
    return std::string("invariant violated: ") + e.what();
  } catch (const std::exception& e) {
    return "uncaught " + demangle(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    return "uncaught exception of unknown type";
  }
}

Harness harness_of(const std::string& target) {
  for (const auto& t : kTargets)
    if (target == t.name) return t.run;
  throw std::runtime_error("unknown fuzz target " + target);
}

// Regular files in DIR (sorted), none if DIR does not exist.
std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Replays fuzz/regressions/TARGET/NAME and expects the harness to accept it.
void expect_clean(const std::string& target, const std::string& name) {
  const fs::path p = repo_path("fuzz/regressions/" + target + "/" + name);
  ASSERT_TRUE(fs::is_regular_file(p)) << p;
  EXPECT_EQ(replay(harness_of(target), read_bytes(p)), "") << p;
}

TEST(FuzzRegression, SeedCorporaPass) {
  for (const auto& t : kTargets) {
    std::vector<fs::path> files = files_in(repo_path(std::string("fuzz/corpus/") + t.name));
    EXPECT_FALSE(files.empty()) << "no seeds in fuzz/corpus/" << t.name;
    // tools/fuzz.sh adds the golden files to the seeds.
    if (std::string(t.name) == "safetensors") {
      files.push_back(repo_path("tests/golden/tiny_ckpt/model.safetensors"));
      files.push_back(repo_path("tests/golden/tiny_tf1.safetensors"));
    } else if (std::string(t.name) == "config") {
      files.push_back(repo_path("tests/golden/tiny_ckpt/config.json"));
    }
    for (const auto& f : files) EXPECT_EQ(replay(t.run, read_bytes(f)), "") << f;
  }
}

TEST(FuzzRegression, SavedFindingsPass) {
  int replayed = 0;
  for (const auto& t : kTargets) {
    for (const auto& f : files_in(repo_path(std::string("fuzz/regressions/") + t.name))) {
      const std::string key = std::string(t.name) + "/" + f.filename().string();
      if (kKnownBugs.count(key)) continue;  // its own test below says what is wrong
      EXPECT_EQ(replay(t.run, read_bytes(f)), "") << f;
      ++replayed;
    }
  }
  EXPECT_GT(replayed, 0) << "nothing found under " << repo_path("fuzz/regressions");
}

TEST(FuzzRegression, HarnessRejectsBrokenInvariants) {
  // The harness itself must notice a failing check (else every replay above passes vacuously).
  EXPECT_NE(replay([](const std::uint8_t*, std::size_t) { NMT_FUZZ_CHECK(false, "x"); }, ""), "");
  EXPECT_NE(replay([](const std::uint8_t*, std::size_t) { throw std::out_of_range("x"); }, ""), "");
}

// --- Bugs the fuzzers found in src/, fixed: each input replays here. -------------------------

// Fixed in d54d214: read_json_file let nlohmann::json::out_of_range (406, a number beyond
// double's range such as "dropout": 1e400 in config.json) escape instead of an nmt::Error.
TEST(FuzzRegression, ConfigJsonNumberOverflowIsNmtError) {
  expect_clean("config", "number-overflow-1e400");
  expect_clean("config", "crash-d4515bd98e159e82d67c5bccd2b6478eb1b72ed8");
}

TEST(FuzzRegression, ConfigIntegersDoNotWrap) {
  expect_clean("config", "int-wrap-src-vocab-size-4294967336");
  expect_clean("config", "int-wrap-version-4294967297");
}

TEST(FuzzRegression, SafetensorsShapeProductOverflowIsRejected) {
  expect_clean("safetensors", "shape-product-overflow");
}

TEST(FuzzRegression, SafetensorsEmptyTensorReadIsDefined) {
  expect_clean("safetensors", "empty-f32-tensor");
  expect_clean("safetensors", "empty-i32-tensor");
}

}  // namespace

// Checkpoints (design §3): save/load round trip, and every way a model directory can be broken
// gives an nmt::Error naming the file (and tensor or field); writes are atomic.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "test_util.h"

using namespace nmt;
using namespace nmt::testing;
using nlohmann::json;

namespace {

const std::vector<std::string> kModelFiles{"config.json", "model.safetensors", "vocab.src.txt",
                                           "vocab.trg.txt"};

// A complete checkpoint of a tiny random model in dir/name; returns its path.
std::string make_checkpoint(const TempDir& dir, const std::string& name = "run",
                            std::uint64_t seed = 5) {
  const auto m = tiny_model(tiny_config(), seed);
  const std::string path = dir / name;
  model::save_model(path, m);
  return path;
}

// A raw safetensors file: u64 little-endian header length, header (padded), data.
std::string raw_safetensors(std::string header, const std::string& data) {
  while (header.size() % 8) header.push_back(' ');
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = (char)((std::uint64_t)header.size() >> (8 * i));
  return out + header + data;
}

// The parameter tensors of a tiny model as TensorOut, for writing variants of a checkpoint.
struct ParamTensors {
  model::ModelConfig cfg = tiny_config();
  model::Model m = tiny_model(cfg, 5);
  std::vector<model::TensorOut> tensors() const {
    std::vector<model::TensorOut> out;
    for (const auto& p : model::param_table(cfg))
      out.push_back({p.name, "F32", p.shape, m.params.data() + p.offset});
    return out;
  }
};

std::uint64_t header_len(const std::string& file) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | (unsigned char)file[i];
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Round trip

TEST(Checkpoint, SaveLoadRoundTripIsBitIdentical) {
  TempDir tmp;
  auto cfg = tiny_config();
  cfg.dropout = 0.25f;
  cfg.lowercase = false;
  cfg.split_hyphens = false;
  const auto m = tiny_model(cfg, 17);
  const json extra = {{"training", {{"epoch", 3}, {"valid_ppl", 12.5}}}};
  model::save_model(tmp / "run", m, extra);
  for (const auto& f : kModelFiles) EXPECT_TRUE(fs::exists(tmp / ("run/" + f))) << f;
  EXPECT_TRUE(files_ending(tmp / "run", ".tmp").empty());

  const auto l = model::load_model(tmp / "run");
  EXPECT_EQ(l.config.to_json(), m.config.to_json());
  EXPECT_EQ(l.config.dropout, 0.25f);
  EXPECT_FALSE(l.config.lowercase);
  EXPECT_FALSE(l.config.split_hyphens);
  ASSERT_EQ(l.params.size(), m.params.size());
  EXPECT_EQ(std::memcmp(l.params.data(), m.params.data(), m.params.size() * sizeof(float)), 0);
  // Weights views point into the loaded buffer.
  EXPECT_EQ(l.w.out_b[0], m.w.out_b[0]);
  EXPECT_EQ(l.w.enc_emb, l.params.data());
  ASSERT_EQ(l.src_vocab.size(), m.src_vocab.size());
  ASSERT_EQ(l.trg_vocab.size(), m.trg_vocab.size());
  for (int i = 0; i < m.src_vocab.size(); ++i)
    EXPECT_EQ(l.src_vocab.token(i), m.src_vocab.token(i));
  for (int i = 0; i < m.trg_vocab.size(); ++i)
    EXPECT_EQ(l.trg_vocab.token(i), m.trg_vocab.token(i));
  // Extra metadata is merged into config.json.
  const auto cj = model::read_json_file(tmp / "run/config.json");
  EXPECT_EQ(cj.at("training").at("epoch"), 3);
  EXPECT_EQ(cj.at("format"), "nmt-seq2seq");

  // Saving what was loaded reproduces every file byte for byte.
  model::save_model(tmp / "again", l, extra);
  for (const auto& f : kModelFiles)
    EXPECT_EQ(read_file(tmp / ("run/" + f)), read_file(tmp / ("again/" + f))) << f;
}

TEST(Checkpoint, SafetensorsLayoutIsStandard) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string file = read_file(dir + "/model.safetensors");
  const std::uint64_t n = header_len(file);
  ASSERT_LE(n + 8, file.size());
  EXPECT_EQ((n + 8) % 8, 0u) << "data section should start 8-byte aligned";
  const auto header = json::parse(file.substr(8, n));
  const auto cfg = tiny_config();
  std::size_t expect_end = 0;
  for (const auto& p : model::param_table(cfg)) {
    ASSERT_TRUE(header.contains(p.name)) << p.name;
    const auto& t = header[p.name];
    EXPECT_EQ(t["dtype"], "F32");
    EXPECT_EQ(t["shape"].get<std::vector<std::int64_t>>(), p.shape) << p.name;
    const auto off = t["data_offsets"].get<std::vector<std::size_t>>();
    EXPECT_EQ(off[1] - off[0], p.size * 4) << p.name;
    expect_end += p.size * 4;
  }
  EXPECT_EQ(file.size(), 8 + n + expect_end) << "data section holds exactly the tensors";
}

TEST(Checkpoint, GoldenPyTorchCheckpointLoadsAndResavesIdentically) {
  TempDir tmp;
  const auto m = model::load_model(repo_path("tests/golden/tiny_ckpt"));
  model::save_model(tmp / "copy", m);
  const auto l = model::load_model(tmp / "copy");
  EXPECT_EQ(std::memcmp(l.params.data(), m.params.data(), m.params.size() * sizeof(float)), 0);
  EXPECT_EQ(read_file(tmp / "copy/vocab.src.txt"),
            read_file(repo_path("tests/golden/tiny_ckpt/vocab.src.txt")));
}

TEST(Checkpoint, OverwritingACheckpointReplacesIt) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp, "run", 1);
  const auto m2 = tiny_model(tiny_config(), 2);
  model::save_model(dir, m2);
  const auto l = model::load_model(dir);
  EXPECT_EQ(std::memcmp(l.params.data(), m2.params.data(), m2.params.size() * sizeof(float)), 0);
  EXPECT_TRUE(files_ending(dir, ".tmp").empty());
}

// ---------------------------------------------------------------------------------------------
// Broken safetensors files

TEST(Checkpoint, ZeroByteFile) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  write_file(dir + "/model.safetensors", "");
  expect_error([&] { model::SafeTensors::load(dir + "/model.safetensors"); },
               {dir + "/model.safetensors"});
  expect_error([&] { model::load_model(dir); }, {"model.safetensors"});
}

TEST(Checkpoint, TruncatedFileAtSeveralPoints) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string path = dir + "/model.safetensors";
  const std::string full = read_file(path);
  const std::size_t hdr = 8 + header_len(full);
  for (std::size_t cut :
       {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{20}, hdr / 2, hdr - 1, hdr,
        hdr + 1, hdr + 100, (hdr + full.size()) / 2, full.size() - 4, full.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(cut) + " of " + std::to_string(full.size()));
    write_file(path, full.substr(0, cut));
    const std::string msg = expect_error([&] { model::load_model(dir); }, {path});
    if (cut > hdr) {
      EXPECT_NE(msg.find("tensor '"), std::string::npos) << msg;
    }
  }
}

TEST(Checkpoint, RandomBytes) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string path = dir + "/model.safetensors";
  Rng rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    std::string junk(1 + rng.below(4000), '\0');
    for (auto& ch : junk) ch = (char)rng.below(256);
    if (trial % 4 == 0) junk[7] = junk[6] = junk[5] = junk[4] = junk[3] = 0;  // plausible length
    write_file(path, junk);
    expect_error([&] { model::load_model(dir); }, {path});
  }
}

TEST(Checkpoint, HeaderLengthBeyondFile) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string path = dir + "/model.safetensors";
  std::string file = read_file(path);
  for (std::uint64_t claim : {(std::uint64_t)file.size(), (std::uint64_t)file.size() + 100,
                              (std::uint64_t)1 << 40, ~(std::uint64_t)0}) {
    std::string f = file;
    for (int i = 0; i < 8; ++i) f[i] = (char)(claim >> (8 * i));
    write_file(path, f);
    expect_error([&] { model::load_model(dir); }, {path, "header"});
  }
}

TEST(Checkpoint, InvalidJsonHeader) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string path = dir + "/model.safetensors";
  for (const std::string h :
       {"{not json", "", "[1, 2, 3]", "\"str\"", "{\"a\": 1}", "{\"__metadata__\": 5}"}) {
    SCOPED_TRACE(h);
    write_file(path, raw_safetensors(h, std::string(64, '\0')));
    expect_error([&] { model::SafeTensors::load(path); }, {path});
  }
}

TEST(Checkpoint, MalformedTensorEntriesNameTheTensor) {
  TempDir tmp;
  const std::string path = tmp / "x.safetensors";
  const std::string data(64, '\0');
  const std::vector<std::string> headers{
      R"({"t.w": {"shape": [4], "data_offsets": [0, 16]}})",                   // no dtype
      R"({"t.w": {"dtype": "F8", "shape": [4], "data_offsets": [0, 16]}})",    // unknown dtype
      R"({"t.w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}})",  // negative dim
      R"({"t.w": {"dtype": "F32", "shape": [4.5], "data_offsets": [0, 16]}})",
      R"({"t.w": {"dtype": "F32", "shape": [4], "data_offsets": [0]}})",
      R"({"t.w": {"dtype": "F32", "shape": [4], "data_offsets": [0, -16]}})",
      R"({"t.w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}})",   // begin > end
      R"({"t.w": {"dtype": "F32", "shape": [4], "data_offsets": [60, 76]}})",  // past the end
      R"({"t.w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1000]}})",
      R"({"t.w": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}})",  // size mismatch
      R"({"t.w": [1, 2]})",
  };
  for (const auto& h : headers) {
    SCOPED_TRACE(h);
    write_file(path, raw_safetensors(h, data));
    expect_error([&] { model::SafeTensors::load(path); }, {path, "'t.w'"});
  }
  // And a valid one loads: the tensor indexes the whole data section (a tensor at [16, 32) of
  // the 64 bytes, which this test used to load, leaves holes: see test_bad_files.cpp).
  write_file(path, raw_safetensors(R"({"t.w": {"dtype": "F32", "shape": [4, 4],
                                    "data_offsets": [0, 64]}})",
                                   data));
  const auto st = model::SafeTensors::load(path);
  EXPECT_EQ(st.f32("t.w").size(), 16u);
}

TEST(Checkpoint, WrongDtypeForAParameter) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  ParamTensors pt;
  for (const std::string dtype : {"F16", "I32", "BF16", "F64"}) {
    SCOPED_TRACE(dtype);
    auto ts = pt.tensors();
    std::vector<char> buf(1 << 16, 0);
    for (auto& t : ts)
      if (t.name == "decoder.fc_out.weight") {
        t.dtype = dtype;
        t.data = buf.data();
      }
    model::save_safetensors(dir + "/model.safetensors", ts);
    expect_error([&] { model::load_model(dir); },
                 {"model.safetensors", "decoder.fc_out.weight", dtype});
  }
}

TEST(Checkpoint, WrongShape) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  ParamTensors pt;
  auto ts = pt.tensors();
  for (auto& t : ts)
    if (t.name == "encoder.fc.weight") std::swap(t.shape[0], t.shape[1]);  // transposed
  model::save_safetensors(dir + "/model.safetensors", ts);
  expect_error([&] { model::load_model(dir); }, {"model.safetensors", "encoder.fc.weight"});
  // A config whose sizes disagree with the weights.
  const std::string dir2 = make_checkpoint(tmp, "run2");
  auto cj = model::read_json_file(dir2 + "/config.json");
  cj["emb_dim"] = cj["emb_dim"].get<int>() + 1;
  write_file(dir2 + "/config.json", cj.dump());
  expect_error([&] { model::load_model(dir2); }, {"model.safetensors", "encoder.embedding.weight"});
}

TEST(Checkpoint, MissingTensor) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  ParamTensors pt;
  auto ts = pt.tensors();
  std::erase_if(ts, [](const auto& t) { return t.name == "decoder.rnn.bias_hh_l0"; });
  model::save_safetensors(dir + "/model.safetensors", ts);
  expect_error([&] { model::load_model(dir); }, {"model.safetensors", "decoder.rnn.bias_hh_l0"});
}

TEST(Checkpoint, UnexpectedExtraTensor) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  ParamTensors pt;
  auto ts = pt.tensors();
  const float extra[3] = {1, 2, 3};
  ts.push_back({"decoder.extra.weight", "F32", {3}, extra});
  model::save_safetensors(dir + "/model.safetensors", ts);
  expect_error([&] { model::load_model(dir); }, {"model.safetensors", "decoder.extra.weight"});
}

TEST(Checkpoint, DataOffsetsOutOfRange) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string path = dir + "/model.safetensors";
  const std::string file = read_file(path);
  const std::size_t n = header_len(file);
  auto header = json::parse(file.substr(8, n));
  const std::string data = file.substr(8 + n);
  auto& off = header["decoder.fc_out.bias"]["data_offsets"];
  const std::size_t len = off[1].get<std::size_t>() - off[0].get<std::size_t>();
  off = {data.size() - len + 4, data.size() + 4};  // right size, 4 bytes past the end
  write_file(path, raw_safetensors(header.dump(), data));
  expect_error([&] { model::load_model(dir); }, {path, "decoder.fc_out.bias"});
}

// ---------------------------------------------------------------------------------------------
// config.json, vocabularies, directories

TEST(Checkpoint, ConfigMissingFields) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const auto good = model::read_json_file(dir + "/config.json");
  for (const std::string field :
       {"format", "version", "src_vocab_size", "trg_vocab_size", "emb_dim", "enc_hid_dim",
        "dec_hid_dim", "dropout", "src_lang", "trg_lang", "lowercase"}) {
    SCOPED_TRACE(field);
    auto j = good;
    j.erase(field);
    write_file(dir + "/config.json", j.dump(2));
    expect_error([&] { model::load_model(dir); }, {dir + "/config.json", "'" + field + "'"});
  }
  write_file(dir + "/config.json", good.dump(2));
  EXPECT_NO_THROW(model::load_model(dir));
  // split_hyphens is optional: configs written before it existed mean "off".
  EXPECT_TRUE(model::load_model(dir).config.split_hyphens);
  auto old = good;
  old.erase("split_hyphens");
  write_file(dir + "/config.json", old.dump(2));
  EXPECT_FALSE(model::load_model(dir).config.split_hyphens);
}

TEST(Checkpoint, ConfigWrongTypes) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const auto good = model::read_json_file(dir + "/config.json");
  const std::vector<std::pair<std::string, json>> cases{
      {"emb_dim", "6"},         {"emb_dim", 6.5},
      {"enc_hid_dim", nullptr}, {"dec_hid_dim", json::array()},
      {"src_vocab_size", true}, {"dropout", "0.5"},
      {"lowercase", 1},         {"split_hyphens", "yes"},
      {"src_lang", 5},          {"trg_lang", json::object()},
      {"version", "1"},         {"format", 1}};
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value.dump());
    auto j = good;
    j[field] = value;
    write_file(dir + "/config.json", j.dump());
    expect_error([&] { model::load_model(dir); }, {"config.json", "'" + field + "'"});
  }
}

TEST(Checkpoint, ConfigBadValues) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const auto good = model::read_json_file(dir + "/config.json");
  const std::vector<std::pair<std::string, json>> cases{
      {"emb_dim", 0},        {"enc_hid_dim", -5},    {"dec_hid_dim", 1 << 20},
      {"src_vocab_size", 0}, {"trg_vocab_size", -1}, {"dropout", 1.0},
      {"dropout", -0.1},     {"format", "other"},    {"version", 2}};
  for (const auto& [field, value] : cases) {
    SCOPED_TRACE(field + " = " + value.dump());
    auto j = good;
    j[field] = value;
    write_file(dir + "/config.json", j.dump());
    expect_error([&] { model::load_model(dir); }, {"config.json"});
  }
}

TEST(Checkpoint, ConfigInvalidJson) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  for (const std::string text : {"", "{", "{\"emb_dim\": 6,}", "not json", "[1, 2]", "42"}) {
    SCOPED_TRACE(text);
    write_file(dir + "/config.json", text);
    expect_error([&] { model::load_model(dir); }, {dir + "/config.json"});
  }
  fs::remove(dir + "/config.json");
  expect_error([&] { model::load_model(dir); }, {dir + "/config.json"});
}

TEST(Checkpoint, VocabSizeNotMatchingConfig) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp);
  const std::string src = read_file(dir + "/vocab.src.txt");
  write_file(dir + "/vocab.src.txt", src + "extra_word\n");
  expect_error([&] { model::load_model(dir); }, {"vocab.src.txt", "src_vocab_size"});
  write_file(dir + "/vocab.src.txt", src);
  const std::string trg = read_file(dir + "/vocab.trg.txt");
  write_file(dir + "/vocab.trg.txt", trg.substr(0, trg.rfind('\n', trg.size() - 2) + 1));
  expect_error([&] { model::load_model(dir); }, {"vocab.trg.txt", "trg_vocab_size"});
  fs::remove(dir + "/vocab.trg.txt");
  expect_error([&] { model::load_model(dir); }, {"vocab.trg.txt"});
}

TEST(Checkpoint, MissingDirectoryOrFiles) {
  TempDir tmp;
  expect_error([&] { model::load_model(tmp / "does/not/exist"); }, {tmp / "does/not/exist"});
  write_file(tmp / "plainfile", "x");
  expect_error([&] { model::load_model(tmp / "plainfile"); }, {tmp / "plainfile"});
  fs::create_directories(tmp / "empty");
  expect_error([&] { model::load_model(tmp / "empty"); }, {"config.json"});
  const std::string dir = make_checkpoint(tmp);
  fs::remove(dir + "/model.safetensors");
  expect_error([&] { model::load_model(dir); }, {dir + "/model.safetensors"});
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

TEST(Checkpoint, SaveIntoReadOnlyDirectoryFailsCleanly) {
  TempDir tmp;
  const std::string dir = tmp / "ro";
  fs::create_directories(dir);
  ReadOnlyDir ro(dir);  // chmod 0500, or a read-only bind mount as root
  if (!ro.why().empty()) GTEST_SKIP() << ro.why();
  const auto m = tiny_model(tiny_config(), 9);
  expect_error([&] { model::save_model(dir, m); }, {dir});
  ro.release();
  EXPECT_TRUE(fs::is_empty(dir)) << "no *.tmp and no half-written file may remain";
}

TEST(Checkpoint, ReadOnlyCheckpointIsLeftIntact) {
  TempDir tmp;
  const std::string dir = make_checkpoint(tmp, "run", 1);
  std::map<std::string, std::string> before;
  for (const auto& f : kModelFiles) before[f] = read_file(dir + "/" + f);
  ReadOnlyDir ro(dir);
  if (!ro.why().empty()) GTEST_SKIP() << ro.why();
  expect_error([&] { model::save_model(dir, tiny_model(tiny_config(), 2)); }, {dir});
  ro.release();
  for (const auto& f : kModelFiles) EXPECT_EQ(read_file(dir + "/" + f), before[f]) << f;
  EXPECT_TRUE(files_ending(dir, ".tmp").empty());
}

TEST(Checkpoint, FailedRenameLeavesNoTempFile) {
  // Works as root too: the target is a non-empty directory, so the final rename fails.
  TempDir tmp;
  const std::string target = tmp / "model.safetensors";
  fs::create_directories(target);
  write_file(target + "/keep", "keep");
  expect_error([&] { write_file_atomic(target, "contents"); }, {target});
  EXPECT_TRUE(files_ending(tmp.path(), ".tmp").empty());
  EXPECT_EQ(read_file(target + "/keep"), "keep");
  ParamTensors pt;
  expect_error([&] { model::save_params(target, pt.cfg, pt.m.params.data()); }, {target});
  EXPECT_TRUE(files_ending(tmp.path(), ".tmp").empty());
}

TEST(Checkpoint, UnwritableTempPathKeepsTheOldFile) {
  // The temp path is taken by a directory: creating it fails and the old file is untouched.
  TempDir tmp;
  const std::string target = tmp / "config.json";
  write_file(target, "old");
  fs::create_directories(target + ".tmp");
  expect_error([&] { write_file_atomic(target, "new"); }, {target});
  EXPECT_EQ(read_file(target), "old");
  // A directory that does not exist.
  expect_error([&] { write_file_atomic(tmp / "no/such/dir/f", "x"); }, {"no/such/dir/f"});
  EXPECT_FALSE(fs::exists(tmp / "no"));
}

TEST(Checkpoint, SafeTensorsSaveAndLoadMixedDtypesAndMetadata) {
  TempDir tmp;
  const std::string path = tmp / "t.safetensors";
  const std::vector<float> f{1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.5f};
  const std::vector<std::int32_t> i{7, -1, 1 << 30};
  model::save_safetensors(path,
                          {{"b.ints", "I32", {3}, i.data()}, {"a.floats", "F32", {2, 3}, f.data()}},
                          {{"state", "{\"x\": 1}"}, {"k", "v"}});
  const auto st = model::SafeTensors::load(path);
  EXPECT_EQ(st.f32("a.floats"), f);
  EXPECT_EQ(st.i32("b.ints"), i);
  EXPECT_EQ(st.info("a.floats").shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(st.metadata().at("state"), "{\"x\": 1}");
  EXPECT_EQ(st.metadata().at("k"), "v");
  EXPECT_FALSE(st.has("c"));
  expect_error([&] { st.f32("b.ints"); }, {path, "b.ints", "I32"});
  expect_error([&] { st.i32("a.floats"); }, {path, "a.floats", "F32"});
  expect_error([&] { st.info("c"); }, {path, "'c'"});
  std::vector<float> out(6);
  expect_error([&] { st.read_f32("a.floats", {3, 2}, out.data()); }, {path, "a.floats", "[2, 3]"});
  EXPECT_TRUE(files_ending(tmp.path(), ".tmp").empty());
}

// Data-parallel training under a real `mpirun` (OpenMPI) on localhost: N ranks give the weights of
// one process (same seed, full recipe with dropout and teacher forcing), resume works with another
// N, a killed rank ends the job and the run resumes, ranks with different data refuse to start.
// Skipped, saying so, only where mpirun is not installed; a build without MPI must refuse.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "model/safetensors.h"
#include "test_util.h"

namespace nmt::testing {
namespace {

namespace fs = std::filesystem;

bool have_mpirun() { return std::system("command -v mpirun >/dev/null 2>&1") == 0; }

// Tiny model, 300 Multi30k pairs: ~10 batches of 32 an epoch, so 20 steps cross an epoch end
// (validation on rank 0) and the epoch's last batch (12 sentences) is split too.
std::string recipe(const std::string& out, int max_steps, int pairs = 300) {
  return " train --out '" + out + "' --data '" + repo_path("data/multi30k") + "' --train-limit " +
         std::to_string(pairs) +
         " --valid-limit 20 --emb 16 --enc-hid 24 --dec-hid 24 --batch 32"
         " --dropout 0.3 --teacher-forcing 0.5 --threads 1 --max-steps " +
         std::to_string(max_steps);
}

std::string mpirun(int np) {
  return "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(np) + " ";
}

CmdResult train(int np, const std::string& out, int max_steps, const std::string& extra = "") {
  const std::string nmt = "'" + nmt_binary() + "'";
  return run_shell("OMP_WAIT_POLICY=PASSIVE timeout 300 " + (np > 0 ? mpirun(np) : std::string()) +
                   nmt + recipe(out, max_steps) + extra);
}

// ||a - b|| / ||b|| over all weights of two resumable states, and the step each holds.
double relative_difference(const std::string& a_dir, const std::string& b_dir) {
  const auto a = model::SafeTensors::load(a_dir + "/train_state.safetensors").f32("params");
  const auto b = model::SafeTensors::load(b_dir + "/train_state.safetensors").f32("params");
  EXPECT_EQ(a.size(), b.size());
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    norm += (double)b[i] * b[i];
  }
  return std::sqrt(diff / norm);
}

long saved_step(const std::string& dir) {
  const auto st = model::SafeTensors::load(dir + "/train_state.safetensors");
  return nlohmann::json::parse(st.metadata().at("state")).at("step").get<long>();
}

#define REQUIRE_MPI()                                                                     \
  do {                                                                                    \
    if (!have_mpirun()) GTEST_SKIP() << "mpirun not installed (scripts/install-deps.sh)"; \
  } while (0)

class Dist : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef NMT_HAVE_MPI
    if (have_mpirun()) {
      const auto r = train(2, tmp / "refused", 2);
      EXPECT_NE(r.status, 0);
      EXPECT_NE(r.err.find("built without MPI support"), std::string::npos) << r.err;
    }
    GTEST_SKIP() << "this build has no MPI (libopenmpi-dev not found by CMake)";
#endif
  }
  TempDir tmp;
};

TEST_F(Dist, SlowTwoRanksGiveTheWeightsOfOneProcess) {
  REQUIRE_MPI();
  const auto one = train(0, tmp / "one", 20), two = train(2, tmp / "two", 20);
  ASSERT_EQ(one.status, 0) << one.err;
  ASSERT_EQ(two.status, 0) << two.out << two.err;
  EXPECT_NE(two.out.find("data parallel: 2 ranks"), std::string::npos) << two.out;
  EXPECT_EQ(saved_step(tmp / "two"), 20);
  const double rel = relative_difference(tmp / "two", tmp / "one");
  std::printf("np 2 vs 1 process after 20 steps: ||w2 - w1|| / ||w1|| = %.3g\n", rel);
  EXPECT_LT(rel, 1e-5);
  // Rank 0 alone wrote the run: one log, one summary line per epoch.
  EXPECT_EQ(split_lines(read_file(tmp / "two/log.jsonl")).size(), 2u);
}

TEST_F(Dist, SlowThreeRanksWithUnevenShards) {
  REQUIRE_MPI();
  // Batches of 32 split 10/11/11, the epoch's last batch of 12 as 4/4/4.
  const auto one = train(0, tmp / "one", 20), three = train(3, tmp / "three", 20);
  ASSERT_EQ(one.status, 0) << one.err;
  ASSERT_EQ(three.status, 0) << three.out << three.err;
  const double rel = relative_difference(tmp / "three", tmp / "one");
  std::printf("np 3 vs 1 process after 20 steps: ||w3 - w1|| / ||w1|| = %.3g\n", rel);
  EXPECT_LT(rel, 1e-5);
}

TEST_F(Dist, SlowResumeWithAnotherNumberOfRanks) {
  REQUIRE_MPI();
  const auto one = train(0, tmp / "one", 20);
  ASSERT_EQ(one.status, 0) << one.err;
  const auto first = train(2, tmp / "run", 10);
  ASSERT_EQ(first.status, 0) << first.err;
  const auto second = train(3, tmp / "run", 20, " --resume");
  ASSERT_EQ(second.status, 0) << second.out << second.err;
  EXPECT_NE(second.out.find("resuming"), std::string::npos) << second.out;
  const auto third = train(0, tmp / "run", 25, " --resume");  // and on in one process
  ASSERT_EQ(third.status, 0) << third.err;
  const auto ref = train(0, tmp / "ref", 25);
  ASSERT_EQ(ref.status, 0) << ref.err;
  EXPECT_LT(relative_difference(tmp / "run", tmp / "ref"), 1e-5);
}

// The pid of rank `rank` of the job training into `out` (from /proc), or 0.
pid_t rank_pid(int rank, const std::string& out) {
  const std::string want = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(e.path() / "environ"), cmd(e.path() / "cmdline");
    std::string envs((std::istreambuf_iterator<char>(env)), {});
    std::string cmdline((std::istreambuf_iterator<char>(cmd)), {});
    for (auto& c : envs) c = c ? c : '\n';
    for (auto& c : cmdline) c = c ? c : ' ';
    if (cmdline.find(out) != std::string::npos && cmdline.find("mpirun") == std::string::npos &&
        (envs + "\n").find("\n" + want + "\n") != std::string::npos)
      return std::stoi(name);
  }
  return 0;
}

TEST_F(Dist, SlowKilledRankEndsTheJobAndTheRunResumes) {
  REQUIRE_MPI();
  const std::string out = tmp / "run";
  // A longer run that saves every 5 steps; rank 1 is killed once the first state is saved.
  const std::string cmd = "OMP_WAIT_POLICY=PASSIVE timeout 300 " + mpirun(2) + "'" + nmt_binary() +
                          "'" + recipe(out, 400) + " --save-every 5 --epochs 100";
  std::FILE* job = ::popen(("( " + cmd + " ) 2>&1").c_str(), "r");
  ASSERT_NE(job, nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  pid_t victim = 0;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(120)) {
    if (fs::exists(out + "/train_state.safetensors") && (victim = rank_pid(1, out))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_NE(victim, 0) << "no state saved or rank 1 not found";
  ::kill(victim, SIGKILL);
  std::string output;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, job)) output.append(buf, n);
  const int rc = ::pclose(job);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) != 0 && WEXITSTATUS(rc) != 124) << output;
  EXPECT_LT(seconds, 120) << "the job did not end after a rank was killed";
  EXPECT_NE(output.find("signal 9"), std::string::npos) << output;  // mpirun names the rank
  const long at = saved_step(out);
  EXPECT_EQ(at % 5, 0);
  EXPECT_LT(at, 400);
  // The job resumes from the last saved state and ends as an uninterrupted run would.
  const long end = at + 10;
  const auto resumed = train(2, out, (int)end, " --save-every 5 --epochs 100 --resume");
  ASSERT_EQ(resumed.status, 0) << resumed.out << resumed.err;
  EXPECT_NE(resumed.out.find("(step " + std::to_string(at) + ")"), std::string::npos)
      << resumed.out;
  const auto ref = train(0, tmp / "ref", (int)end, " --epochs 100");
  ASSERT_EQ(ref.status, 0) << ref.err;
  EXPECT_EQ(saved_step(out), end);
  EXPECT_LT(relative_difference(out, tmp / "ref"), 1e-5);
}

TEST_F(Dist, SlowRanksWithDifferentDataRefuseToStart) {
  REQUIRE_MPI();
  const std::string nmt = "'" + nmt_binary() + "'", out = tmp / "run";
  // MPMD: rank 0 and rank 1 are given different training data.
  const auto r = run_shell("OMP_WAIT_POLICY=PASSIVE timeout 120 " + mpirun(1) + nmt +
                           recipe(out, 5) + " : -np 1 " + nmt + recipe(out, 5, 299));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("nmt: error: rank 1 and rank 0 disagree on the training data or options"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out + "/config.json"));  // refused before writing anything
  EXPECT_FALSE(fs::exists(out + "/train_state.safetensors"));
}

}  // namespace
}  // namespace nmt::testing

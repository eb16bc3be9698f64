// nmt train: the seed recipe on Multi30k (design §4, §5).
#include <algorithm>
#include <cstdlib>

#include "cli/commands.h"
#include "train/trainer.h"

namespace nmt::cli {

void add_train(CLI::App& app) {
  auto opt = std::make_shared<train::TrainOptions>();
  opt->data_dir = default_data_dir();
  auto* cmd = app.add_subcommand("train", "Train the seed model (best checkpoint kept in --out)");
  cmd->add_option("--data", opt->data_dir, "Directory with train/val .de/.en files (gz or plain)")
      ->capture_default_str();
  cmd->add_option("--out", opt->out_dir, "Run directory (checkpoints, log.jsonl)")->required();
  cmd->add_option("--epochs", opt->epochs, "Number of epochs")->capture_default_str();
  cmd->add_option("--batch", opt->batch, "Sentences per batch")->capture_default_str();
  cmd->add_option("--max-steps", opt->max_steps,
                  "Stop after this many updates in total (0 = no limit), then validate and save")
      ->capture_default_str();
  cmd->add_option("--threads", opt->threads, "CPU threads")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed (init, shuffling, dropout, coins)")
      ->capture_default_str();
  cmd->add_flag("--resume", opt->resume, "Continue the run in --out from its last saved state");
  cmd->add_option("--lr", opt->lr, "Adam learning rate")->capture_default_str();
  cmd->add_option("--clip", opt->clip, "Global gradient-norm clip")->capture_default_str();
  cmd->add_option("--teacher-forcing", opt->teacher_forcing, "Teacher forcing ratio")
      ->capture_default_str();
  cmd->add_option("--dropout", opt->dropout, "Embedding dropout")->capture_default_str();
  cmd->add_option("--max-len", opt->max_len,
                  "Truncate training sentences to this many tokens (incl. <sos>/<eos>)")
      ->capture_default_str();
  cmd->add_option("--save-every", opt->save_every,
                  "Also save the resumable state every N updates (0 = at epoch ends only)")
      ->capture_default_str();
  cmd->add_flag("--bucket", opt->bucket, "Group sentences of similar length into batches");
  cmd->add_flag(
      "--keep-epochs", opt->keep_epochs,
      "Also save each epoch's weights as a model in RUN/epochs/N (82 MB each for the seed preset)");
  cmd->add_option("--train-limit", opt->train_limit, "Use only the first N training pairs");
  cmd->add_option("--valid-limit", opt->valid_limit, "Use only the first N validation pairs");
  cmd->add_option("--emb", opt->emb_dim, "Embedding size")->capture_default_str();
  cmd->add_option("--enc-hid", opt->enc_hid_dim, "Encoder GRU size per direction")
      ->capture_default_str();
  cmd->add_option("--dec-hid", opt->dec_hid_dim, "Decoder GRU size")->capture_default_str();
  cmd->callback([opt, cmd] {
    for (const char* name : {"batch", "seed", "lr", "clip", "teacher-forcing", "dropout", "epochs",
                             "max-len", "bucket", "train-limit", "valid-limit"}) {
      if (cmd->count(std::string("--") + name) > 0) continue;
      std::string key = name;
      std::replace(key.begin(), key.end(), '-', '_');
      opt->defaulted.insert(key);
    }
    if (!train::train(*opt)) std::exit(130);  // interrupted; the state is saved
  });
}

}  // namespace nmt::cli

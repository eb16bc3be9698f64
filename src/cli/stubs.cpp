// Subcommands that are not built yet: listed in --help, fail clearly when run.
#include "cli/commands.h"
#include "common/error.h"

namespace nmt::cli {

static void add_stub(CLI::App& app, const char* name, const char* what) {
  auto* cmd = app.add_subcommand(name, std::string(what) + " (not implemented yet)");
  cmd->allow_extras();
  cmd->callback([name] { throw Error(std::string("'nmt ") + name + "' is not implemented yet"); });
}

void add_attention(CLI::App& app) { add_stub(app, "attention", "Attention heatmap (SVG or text)"); }
void add_explain(CLI::App& app) { add_stub(app, "explain", "The seed walkthrough on a real batch"); }

std::string default_data_dir() { return std::string(NMT_SOURCE_DIR) + "/data/multi30k"; }

}  // namespace nmt::cli

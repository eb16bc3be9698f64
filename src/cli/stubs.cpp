// Subcommands that are not built yet: listed in --help, fail clearly when run.
#include "cli/commands.h"
#include "common/error.h"

namespace nmt::cli {

static void add_stub(CLI::App& app, const char* name, const char* what) {
  auto* cmd = app.add_subcommand(name, std::string(what) + " (not implemented yet)");
  cmd->allow_extras();
  cmd->callback([name] { throw Error(std::string("'nmt ") + name + "' is not implemented yet"); });
}

std::string default_data_dir() { return std::string(NMT_SOURCE_DIR) + "/data/multi30k"; }

}  // namespace nmt::cli

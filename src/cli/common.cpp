// Helpers shared by the subcommands.
#include <filesystem>

#include "cli/commands.h"

namespace nmt::cli {

// The bundled Multi30k: the source tree's copy, or ./data/multi30k when the binary was moved.
std::string default_data_dir() {
  const std::string built_in = std::string(NMT_SOURCE_DIR) + "/data/multi30k";
  if (std::filesystem::is_directory(built_in)) return built_in;
  return "data/multi30k";
}

}  // namespace nmt::cli

// libFuzzer target: the config parser must turn any text into a Config or a
// clear error, never crash or hang.
#include <cstdint>
#include <string>

#include "codecs/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto loader = [](const std::string&) -> dirledger::Result<std::string> {
    return std::string("[account]\nname = \"uid\"\n");
  };
  auto cfg = dirledger::ParseConfig(text, "fuzz.toml", loader);
  if (cfg.ok()) {
    (void)dirledger::MakeConfigChange(*cfg, text);
  } else if (cfg.status().message().empty()) {
    __builtin_trap();  // every error must say something
  }
  return 0;
}

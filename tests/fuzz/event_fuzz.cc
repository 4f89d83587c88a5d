// libFuzzer target: the event decoder and verifier. Any bytes decode to an
// event or a Corruption status; a decoded event re-encodes and decodes again
// to the same bytes.
#include <cstdint>
#include <string>

#include "codecs/event_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dirledger::Event e;
  dirledger::Status s = dirledger::DecodeEvent(bytes, 1, &e);
  if (!s.ok()) {
    if (!s.IsCorruption()) __builtin_trap();
    return 0;
  }
  const std::string again = dirledger::EncodeEvent(e);
  dirledger::Event e2;
  if (!dirledger::DecodeEvent(again, 1, &e2).ok() ||
      dirledger::EncodeEvent(e2) != again)
    __builtin_trap();
  return 0;
}

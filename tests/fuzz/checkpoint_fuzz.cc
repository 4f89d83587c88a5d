// libFuzzer target: the projection checkpoint reader
// (replay/projection_checkpoint.h). A checkpoint file's own SHA-256 keeps
// random bytes from reaching what follows it, so an input starting with 'T'
// is read as the tables alone (InMemoryProjection::ReadTables, the parser
// behind that check); any other input as a whole file. Tables that read
// must write back to tables that read to the same bytes.
#include <cstdint>
#include <string>

#include "replay/in_memory_projection.h"
#include "replay/projection_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dirledger::InMemoryProjection p;
  if (!bytes.empty() && bytes[0] == 'T') {
    if (!p.ReadTables(bytes.substr(1)).ok()) return 0;
  } else {
    dirledger::CheckpointHeader h;
    if (!dirledger::DecodeCheckpoint(bytes, &h, &p).ok()) return 0;
  }
  std::string once, twice;
  p.AppendTables(&once);
  dirledger::InMemoryProjection again;
  if (!again.ReadTables(once).ok()) __builtin_trap();
  again.AppendTables(&twice);
  if (once != twice) __builtin_trap();
  return 0;
}

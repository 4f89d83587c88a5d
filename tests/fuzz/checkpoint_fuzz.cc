// libFuzzer target: the projection checkpoint reader
// (replay/projection_checkpoint.h). A checkpoint file's own SHA-256 keeps
// random bytes from reaching what follows it, so an input starting with 'T'
// is read as the tables alone (InMemoryProjection::ReadTables, the parser
// behind that check), held whole and streamed a few bytes at a time (as a
// checkpoint's tables are read while decompressed), which must agree; any
// other input as a whole file. Tables that read must write back to tables
// that read to the same bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "replay/in_memory_projection.h"
#include "replay/projection_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dirledger::InMemoryProjection p;
  if (!bytes.empty() && bytes[0] == 'T') {
    const std::string_view tables = bytes.substr(1);
    const bool whole = p.ReadTables(tables).ok();
    dirledger::InMemoryProjection streamed;
    std::size_t at = 0;
    const bool in_pieces =
        streamed
            .ReadTables(tables.size(),
                        [&](char* dst, std::size_t n) {
                          n = std::min({n, std::size_t{7}, tables.size() - at});
                          std::memcpy(dst, tables.data() + at, n);
                          at += n;
                          return n;
                        })
            .ok();
    if (whole != in_pieces) __builtin_trap();
    if (!whole) return 0;
    std::string a, b;
    p.AppendTables(&a);
    streamed.AppendTables(&b);
    if (a != b) __builtin_trap();
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

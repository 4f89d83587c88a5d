// libFuzzer target: the LDIF reader; what it accepts, the writer must write
// back into text the reader reads to the same records.
#include <cstdint>
#include <string>

#include "codecs/ldif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto recs = dirledger::ParseLdif(text);
  if (!recs.ok()) return 0;
  std::string out;
  for (const auto& r : *recs) {
    if (r.change != dirledger::LdifChange::kContent || r.attrs.empty())
      continue;
    out.clear();
    dirledger::AppendLdifEntry(&out, r.dn, r.attrs);
    auto again = dirledger::ParseLdif(out);
    if (!again.ok() || again->size() != 1 || (*again)[0].dn != r.dn ||
        !((*again)[0].attrs == r.attrs))
      __builtin_trap();
  }
  return 0;
}

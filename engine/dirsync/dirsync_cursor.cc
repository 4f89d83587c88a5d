#include "engine/dirsync/dirsync_cursor.h"

#include <algorithm>
#include <cstdio>

#include "codecs/attributes.h"
#include "codecs/sha256.h"
#include "engine/dirsync/object_guid.h"

namespace dirledger {
namespace {

constexpr std::string_view kMagic = "dirsync1 ";

}  // namespace

std::string EncodeDirSyncCursor(const DirSyncCursor& cursor) {
  char fp[17];
  std::snprintf(fp, sizeof fp, "%016llx",
                static_cast<unsigned long long>(cursor.fingerprint));
  std::string out(kMagic);
  out += cursor.nc_guid;
  out += ' ';
  out += fp;
  out += '\n';
  out += cursor.server_cookie;
  return out;
}

Result<DirSyncCursor> DecodeDirSyncCursor(std::string_view stored) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("stored cursor is not a DirSync cursor (" +
                                   std::string(why) + ")");
  };
  if (stored.substr(0, kMagic.size()) != kMagic) return bad("no header");
  const size_t nl = stored.find('\n');
  if (nl == std::string_view::npos) return bad("header not terminated");
  const std::string_view header =
      stored.substr(kMagic.size(), nl - kMagic.size());
  const size_t sp = header.find(' ');
  if (sp == std::string_view::npos) return bad("no fingerprint");
  DirSyncCursor out;
  out.nc_guid = std::string(header.substr(0, sp));
  if (!IsObjectGuidString(out.nc_guid)) return bad("bad naming context GUID");
  const std::string_view fp = header.substr(sp + 1);
  if (fp.size() != 16) return bad("bad fingerprint");
  for (char c : fp) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else {
      return bad("bad fingerprint");
    }
    out.fingerprint = (out.fingerprint << 4) | static_cast<std::uint64_t>(v);
  }
  out.server_cookie = std::string(stored.substr(nl + 1));
  if (out.server_cookie.empty()) return bad("no server cookie");
  return out;
}

std::uint64_t SearchFingerprint(std::string_view base, std::string_view filter,
                                const std::vector<std::string>& attributes,
                                std::string_view scope) {
  std::vector<std::string> attrs;
  attrs.reserve(attributes.size());
  for (const std::string& a : attributes) attrs.push_back(AsciiLower(a));
  std::sort(attrs.begin(), attrs.end());
  attrs.erase(std::unique(attrs.begin(), attrs.end()), attrs.end());
  Sha256Hasher h;
  h.Update(AsciiLower(base));
  h.Update(std::string_view("\0", 1));
  h.Update(filter);
  for (const std::string& a : attrs) {
    h.Update(std::string_view("\0", 1));
    h.Update(a);
  }
  h.Update(std::string_view("\0\0", 2));
  h.Update(scope);
  const std::string digest = h.Finish();
  std::uint64_t out = 0;
  for (int i = 0; i < 8; ++i)
    out = (out << 8) | static_cast<unsigned char>(digest[i]);
  return out;
}

}  // namespace dirledger

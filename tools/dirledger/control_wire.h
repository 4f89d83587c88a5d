// The control socket's wire format (docs/operations.md, "Commands beside
// the running service"): one JSON object on one line each way.
//
//   request  {"argv":["dirledger","approve","hold-30"],"actor":"alice",
//             "password":"..."}
//   note     {"note":"waiting for the service's current cycle"}
//   reply    {"exit":0,"out":"...","err":"..."}
//
// `argv` is the command line as typed (argv[0] first; paths made absolute
// by the asking command); `actor` (optional) is the SUDO_USER the asking
// command ran under; `password` (optional) is the password `mail add|set`
// read from --password-file or --password-env, never logged. The service
// may send any number of notes before its one reply. A request line is at
// most kMaxRequestBytes, a reply line at most kMaxReplyBytes.
//
// Thread safety: free functions on values.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_WIRE_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_WIRE_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/status.h"

namespace dirledger::cli {

// The request line, its newline included.
inline constexpr std::size_t kMaxRequestBytes = 64 << 10;
// Words of argv (argv[0] included).
inline constexpr std::size_t kMaxRequestWords = 256;
// The reply line, its newline included; a longer output is cut (and says so).
inline constexpr std::size_t kMaxReplyBytes = 64 << 20;

struct ControlRequest {
  std::vector<std::string> argv;
  std::string actor;                    // "" when none was claimed
  std::optional<std::string> password;  // mail add|set only
};

struct ControlReply {
  int exit = 0;
  std::string out;
  std::string err;
};

// One line each, ending in "\n". InvalidArgument when a word is not UTF-8
// (JSON holds text only) or the line would pass its limit.
Result<std::string> EncodeRequest(const ControlRequest& request);
std::string EncodeReply(const ControlReply& reply);
std::string EncodeNote(std::string_view note);

// Parses one line (with or without its "\n"). InvalidArgument, saying what
// is wrong, for anything but a well-formed object within the limits.
Result<ControlRequest> DecodeRequest(std::string_view line);

// A line from the service: a note (*note set, *reply untouched) or the
// reply (*note cleared).
Status DecodeServiceLine(std::string_view line, ControlReply* reply,
                         std::string* note);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_CONTROL_WIRE_H_

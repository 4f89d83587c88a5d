// Secrets: bind and Axigen passwords are read from a file or an environment
// variable at the moment they are needed, never from the config text, and
// never written to logs, events or output. Secret wraps the value so it is
// not printed by accident.
//
// Thread safety: plain values and functions.
#ifndef DIRLEDGER_ENGINE_SECRETS_H_
#define DIRLEDGER_ENGINE_SECRETS_H_

#include <string>
#include <string_view>

#include "codecs/config.h"
#include "codecs/status.h"

namespace dirledger {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  ~Secret();  // wipes the bytes
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;

  // The value, for handing to a library call. Never log it.
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

// Reads the secret named by `file` (resolved against the config dir; one
// trailing newline is dropped) or `env`. `what` names it in errors
// ("connector \"corp\" bind password"); an error never contains the value.
// Both empty: an empty secret (anonymous bind). A file that is empty, is a
// directory or cannot be read, and a variable that is empty, are
// InvalidArgument naming the file (or variable) and the cause: with a bind
// DN, an empty password is an unauthenticated bind. A file that its group
// or others may read is read, with a warning (once per file) in the log.
Result<Secret> ReadSecret(const Config& config, std::string_view file,
                          std::string_view env, std::string_view what);

// Reads every secret the config names (each connector's bind password, the
// Axigen password) and forgets them: a service checks them before it
// starts, rather than when it first connects.
Status CheckSecrets(const Config& config);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_SECRETS_H_

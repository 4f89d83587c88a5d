// AxigenCliClient: one logged-in session on the Axigen CLI (TCP, default
// port 7000). Connect() reads the greeting up to the "<login> " prompt,
// turns QUIET mode on ("SET QUIET on", so replies are script-friendly), sends
// "USER name", answers the "<password> " prompt with the password and
// expects "+OK" and the root prompt "<#> ". Then every command is one line;
// its reply is read up to the next prompt and parsed (cli_reply.h).
//
// The password is read from a Secret, sent once, and never kept in a message,
// a log line or an error. After any transport failure or malformed reply the
// session is marked broken: the caller drops it and connects anew (the
// server discards what was not committed when a session ends).
//
// Thread safety: one thread at a time.
#ifndef DIRLEDGER_ENGINE_AXIGEN_CLI_CLIENT_H_
#define DIRLEDGER_ENGINE_AXIGEN_CLI_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "engine/axigen/cli_reply.h"
#include "engine/axigen/cli_transport.h"
#include "engine/secrets.h"

namespace dirledger {

struct AxigenEndpoint {
  TransportOptions transport;
  std::string user = "admin";
  Secret password;
};

class AxigenCliClient {
 public:
  // Connects and logs in. Unavailable when the server cannot be reached or
  // drops the session; InvalidArgument when it refuses the login (the
  // message carries the server's words, never the password).
  static Result<std::unique_ptr<AxigenCliClient>> Connect(
      const AxigenEndpoint& endpoint);

  // Sends one command and reads its reply. A "-ERR" reply is a reply
  // (ok == false), not an error; errors are transport failures and
  // malformed replies (the session is then broken).
  Result<CliReply> Execute(std::string_view command);

  // Execute, and a "-ERR" reply becomes an error whose message names the
  // command (`shown`, or the command itself) and quotes the server.
  Result<CliReply> Expect(std::string_view command,
                          std::string_view shown = {});

  // BACK until the root context (discarding uncommitted changes).
  Status BackToRoot();

  // The current context ("" root, "domain", "domain-account", ...).
  const std::string& context() const { return context_; }
  bool broken() const { return broken_; }
  // Replies read so far on this session (tells a session that was dropped
  // while idle from one dropped in the middle of a sequence).
  std::uint64_t replies() const { return replies_; }
  const std::string& peer() const { return transport_->peer(); }

  // Sends EXIT and closes.
  void Close();

 private:
  AxigenCliClient() = default;
  Result<CliReply> ReadReply(bool expect_status, std::string_view what);
  Status Send(std::string_view line, std::string_view what);

  std::unique_ptr<CliTransport> transport_;
  std::string context_;
  bool broken_ = false;
  std::uint64_t replies_ = 0;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_CLI_CLIENT_H_

// FakeAxigenServer: a small, protocol-faithful stand-in for the Axigen CLI
// service (TCP, one thread per session) with in-memory domains, accounts and
// groups, for tests and demos where no real Axigen can run. It follows the
// documented protocol (docs/axigen.md): the "<login> " prompt, USER and the
// "<password> " prompt, "+OK: ..." / "-ERR: ..." status lines, prompts naming
// the context ("<#> ", "<domain#> ", "<domain-account#> ",
// "<domain-account-contactinfo#> ", "<domain-group#> "), QUIET mode, LIST
// replies laid out as Axigen lays them out (ListForm), the
// three value forms (escaped, 'single-quoted', "double-quoted"), and
// COMMIT / DONE / BACK: nothing a session changes reaches the server state
// before COMMIT, BACK discards, and a session that ends discards what it
// had not committed. Its command parser is written apart from dirledger's
// client, so the two check each other.
//
// Fault modes, for tests: drop the connection at the next COMMIT before or
// after its change takes effect, answer "-ERR" to chosen commands, send a
// garbled reply, delay every reply.
//
// Listens on 127.0.0.1 only; port 0 picks a free port (port()).
//
// Thread safety: every public method may be called from any thread while
// sessions run.
#ifndef DIRLEDGER_TESTS_FAKE_AXIGEN_FAKE_AXIGEN_SERVER_H_
#define DIRLEDGER_TESTS_FAKE_AXIGEN_FAKE_AXIGEN_SERVER_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "codecs/status.h"

namespace dirledger::test {

struct FakeAccount {
  std::string password;
  std::map<std::string, std::string> contact;  // ContactInfo field -> value
  std::set<std::string> aliases;               // names within the domain

  friend bool operator==(const FakeAccount&, const FakeAccount&) = default;
};

struct FakeGroup {
  std::map<std::string, std::string> attrs;  // displayName
  std::set<std::string> addresses;           // member addresses

  friend bool operator==(const FakeGroup&, const FakeGroup&) = default;
};

struct FakeDomain {
  std::map<std::string, FakeAccount> accounts;  // by lower-case name
  std::map<std::string, FakeGroup> groups;

  friend bool operator==(const FakeDomain&, const FakeDomain&) = default;
};

using FakeState = std::map<std::string, FakeDomain>;  // by domain name

enum class CommitFault {
  kNone,
  kDropBeforeEffect,  // close the connection; the COMMIT changes nothing
  kDropAfterEffect,   // apply the COMMIT, then close without answering
};

// How the fake prints a LIST reply.
enum class ListForm {
  // As Axigen prints it (and GECAD's cli2.py reads it), QUIET or not:
  // LIST Domains / Accounts / Groups as a table ("The list of accounts:",
  // a blank line, the column header "name", a dashed rule, a blank line, the
  // items, a blank line); LIST Aliases / Addresses as a titled list (the
  // title, a blank line, the items, a blank line).
  kAxigen,
  kBare,    // one item per line and nothing else
  kNoRule,  // fault: the table without its dashed rule, still "+OK"
};

struct FakeAxigenOptions {
  int port = 0;  // 0: any free port
  std::string user = "admin";
  std::string password = "secret";
};

class FakeAxigenServer {
 public:
  explicit FakeAxigenServer(FakeAxigenOptions options = {});
  ~FakeAxigenServer();
  FakeAxigenServer(const FakeAxigenServer&) = delete;
  FakeAxigenServer& operator=(const FakeAxigenServer&) = delete;

  Status Start();
  void Stop();
  int port() const { return port_; }

  // The server state, as "Axigen's own admin" would see and edit it.
  void AddDomain(const std::string& domain);
  FakeState State() const;
  void Mutate(const std::function<void(FakeState*)>& fn);

  // Faults. Each applies to the next matching occurrence(s).
  void FailNextCommit(CommitFault fault);
  // Answers "-ERR: <message>" instead of running the next `times` commands
  // whose line starts with `prefix` (case-insensitive).
  void FailCommand(const std::string& prefix, int times = 1,
                   const std::string& message = "injected failure");
  // Answers bytes without a status line (then the prompt) instead of running
  // the next `times` commands starting with `prefix`.
  void GarbleCommand(const std::string& prefix, int times = 1);
  void SetReplyDelay(std::chrono::milliseconds delay);
  void SetListForm(ListForm form);

  // What happened: COMMITs that changed the server state, sessions opened,
  // and every command line received (the login password replaced).
  int commits() const;
  int sessions() const;
  std::vector<std::string> commands() const;

 private:
  class Session;
  friend class Session;
  void AcceptLoop();

  FakeAxigenOptions options_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<long long> delay_ms_{0};
  std::atomic<ListForm> list_form_{ListForm::kAxigen};
  std::thread accept_thread_;

  mutable std::mutex mu_;  // guards everything below
  FakeState state_;
  std::vector<std::thread> session_threads_;
  std::set<int> session_fds_;
  CommitFault commit_fault_ = CommitFault::kNone;
  struct CommandFault {
    std::string prefix;
    int times = 0;
    std::string message;
    bool garble = false;
  };
  std::vector<CommandFault> command_faults_;
  int commits_ = 0;
  int sessions_ = 0;
  std::vector<std::string> commands_;
};

// The ContactInfo fields the fake accepts (Axigen's names).
const std::vector<std::string>& FakeContactFields();

}  // namespace dirledger::test

#endif  // DIRLEDGER_TESTS_FAKE_AXIGEN_FAKE_AXIGEN_SERVER_H_

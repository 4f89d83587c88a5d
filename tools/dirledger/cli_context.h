// CliContext: what every dirledger subcommand shares: the config (loaded on
// demand, errors exit 2), the log (opened read-only for commands that only
// look, so they work while `run` holds the data dir), output helpers for
// text and JSON Lines, and the exit codes of DESIGN's contract.
//
// A command carried out by the service for an operator (the control
// socket, control_socket.h) runs with a context that serves from the
// service: its config, its open log, intake and writers, its embedded mail
// directory; its output goes to the buffers sent back, and the actor and
// command line are the asking operator's.
#ifndef DIRLEDGER_TOOLS_DIRLEDGER_CLI_CONTEXT_H_
#define DIRLEDGER_TOOLS_DIRLEDGER_CLI_CONTEXT_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "codecs/config.h"
#include "codecs/status.h"
#include "engine/backup/restore_journal.h"
#include "engine/secrets.h"
#include "storage/event_log.h"

namespace dirledger {
class Applier;
class EmbeddedMailDirectory;
class Intake;
class RunObserver;
}  // namespace dirledger

namespace dirledger::cli {

// What a running service lends a command it carries out. Every pointer
// outlives the command; the command runs on the service's applier thread.
struct ServiceHandles {
  EventLog* log = nullptr;
  Intake* intake = nullptr;
  std::map<std::pair<Side, std::string>, Applier*> appliers;
  EmbeddedMailDirectory* embedded = nullptr;  // [mail] kind = "embedded"
  RunObserver* observer = nullptr;            // heartbeats while applying
};

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,  // failure or mismatch
  kExitUsage = 2,    // usage or config error
  kExitHeld = 3,     // held by the mass-delete guard
};

class CliContext {
 public:
  explicit CliContext(std::string config_path);

  // A context for a command the service carries out: `config` is the
  // service's (the one in force), `service` what it lends.
  void ServeFrom(const Config& config, const std::string& config_text,
                 const ServiceHandles* service);
  // Null unless the service carries out this command.
  const ServiceHandles* service() const { return service_; }

  // Where the command's results (stdout) and messages (stderr) go.
  void set_output(std::ostream* out, std::ostream* err) {
    out_ = out;
    err_ = err;
  }
  std::ostream& out() { return *out_; }
  std::ostream& err() { return *err_; }

  // Who runs the command, as operator actions record it: Actor() unless
  // the service carries it out for someone (set_actor).
  std::string actor() const;
  void set_actor(std::string actor) { actor_ = std::move(actor); }
  // The command line as typed: CommandLine() unless set.
  std::string command_line() const;
  void set_command_line(std::string line) { command_line_ = std::move(line); }
  // A password the asking command read for `mail add|set` (the service
  // does not read the operator's files or environment).
  void set_given_password(std::optional<Secret> password) {
    given_password_ = std::move(password);
  }
  const std::optional<Secret>& given_password() const {
    return given_password_;
  }
  // The asking command's process (SO_PEERCRED), when the service carries
  // the command out; 0 otherwise.
  void set_asker_pid(pid_t pid) { asker_pid_ = pid; }
  pid_t asker_pid() const { return asker_pid_; }

  // --quiet: only warnings and errors are logged, whatever log_level says.
  void set_quiet(bool quiet) { quiet_ = quiet; }

  // Loads the config once (and sets the log level it names). On failure prints
  // the error and returns null.
  const Config* config();
  const std::string& config_text() const { return config_text_; }
  const std::string& config_path() const { return config_path_; }
  // The data dir holds the log (DATA/log) and the embedded mail directory
  // (DATA/mail).
  std::string data_dir();
  std::string log_dir();

  // Finishes or undoes a restore of the data dir that was stopped midway
  // (engine/backup/restore_journal.h), saying so on stderr; every command
  // does this before it reads the data dir. 0, or the exit code of a
  // failure (printed).
  int FinishInterruptedRestore();

  // Takes the data dir's lock shared, for a command that writes the log or
  // the embedded mail directory: no restore may start while it writes, nor
  // it while a restore runs (engine/backup/restore_journal.h). Held until
  // this context ends. On failure prints the error and returns false.
  bool LockDataDir();

  // Opens the log. Read-only opens never create anything and do not take the
  // data dir's lock. On failure prints the error and returns null.
  // `long_running` (the service): LogOptions::settle_compactions_at_close
  // off.
  EventLog* OpenLog(bool read_only, bool long_running = false);
  // OpenLog for writing, with `beside` run on this thread while the log
  // opens on another (opening a database is mostly reading its files and
  // replaying its write-ahead log: a short run opens the log and the
  // embedded mail directory side by side). `beside` runs after the data
  // dir's lock is taken, and only then; it must not touch this context.
  EventLog* OpenLogWhile(bool long_running,
                         const std::function<void()>& beside);
  // The exit code after OpenLog returned null: 2 when the config was at
  // fault, else 1.
  int OpenFailedExit() const {
    return config_failed_ ? kExitUsage : kExitFailure;
  }

  // Prints "dirledger: <message>" to stderr and returns the exit code for
  // the status (2 for InvalidArgument, 3 for Held, else 1).
  int Fail(const Status& s);

  // One JSON Lines record to stdout (or `out`).
  static void JsonLine(const nlohmann::json& j);
  static void JsonLine(std::ostream& out, const nlohmann::json& j);

  // Makes std::cout write to standard output through a buffer that keeps
  // the cause of a failed write. Called first thing in main.
  static void UseCheckedStdout();
  // True once a write to standard output failed (a full disk, /dev/full):
  // long outputs stop there.
  static bool OutputFailed();
  // Flushes and closes standard output, once, when a command is done. When
  // any write to it failed, prints "dirledger: writing to standard output:
  // <cause>" and returns 1 (`rc` when that is already a failure); else `rc`.
  // Output that did not arrive whole never exits 0, except for a stream
  // whose reader left (EndStreamOnClosedOutput).
  static int FinishOutput(int rc);
  // For an endless stream (`log --follow`): a reader that closes its end
  // (EPIPE: `| head`) ends the stream; FinishOutput then says nothing and
  // keeps `rc`. Returns whether the last failed write was such an EPIPE.
  static bool EndStreamOnClosedOutput();

 private:
  // OpenLog, and OpenLogWhile when `beside` is set.
  EventLog* OpenLogBeside(bool read_only, bool long_running,
                          const std::function<void()>& beside);

  std::string config_path_;
  std::string config_text_;
  std::unique_ptr<Config> config_;
  bool config_failed_ = false;
  bool quiet_ = false;
  DataDirLock data_lock_;  // shared, while a command writes (LockDataDir)
  bool data_locked_ = false;
  std::unique_ptr<EventLog> log_;
  const ServiceHandles* service_ = nullptr;
  std::ostream* out_;
  std::ostream* err_;
  std::optional<std::string> actor_;
  std::optional<std::string> command_line_;
  std::optional<Secret> given_password_;
  pid_t asker_pid_ = 0;
};

// ISO 8601 UTC with microseconds: 2026-11-21T23:37:52.123456Z.
std::string FormatTime(std::int64_t time_us);
// A SEQ (digits) or a TIME (ISO 8601 date or date-time, UTC unless an offset
// is given). Exactly one of *seq / *time_us is set.
Status ParseSeqOrTime(const std::string& arg, std::uint64_t* seq,
                      std::int64_t* time_us);
// The sequence at or after (or at or before) a time, by scanning the log.
Result<std::uint64_t> SeqAtTime(const EventLog& log, std::int64_t time_us,
                                bool first_after);

}  // namespace dirledger::cli

#endif  // DIRLEDGER_TOOLS_DIRLEDGER_CLI_CONTEXT_H_

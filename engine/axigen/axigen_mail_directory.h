// AxigenMailDirectory: the mail side on a real Axigen server, through its CLI
// (cli_client.h). [mail] kind = "axigen" selects it (docs/axigen.md).
//
// Source ("mail"): Axigen has no change feed, so every pass reads the
// accounts and groups of every domain the config names (LIST Accounts, LIST
// Groups, then each object's ContactInfo, aliases, members) and diffs that
// snapshot against what the log knows of this source
// (SourceSink::ForEachKnown): new objects become adds, changed ones modifies
// (full images), missing ones deletes. The cursor is the SHA-256 of the
// snapshot: an unchanged snapshot delivers nothing; a first pass (no cursor)
// that finds nothing delivers an empty full refresh (RefreshPhase Begin/End,
// kFull), so the log shows the side was polled. A domain Axigen cannot
// list fails the pass (no deletes are ever inferred from a failed read).
// Run() polls every [mail] polling_interval_s, and after a failure retries
// every transient_error_retry_interval_s, reconnecting a dropped session.
//
// Applier: checks the object's current state first and plans the write with
// PlanIntent (engine/mail_object.h): already in the intended state ->
// already_applied, nothing sent; an `expect` mismatch -> Conflict. Each
// change is made inside one entity context and saved by one COMMIT, so a
// connection dropped around the COMMIT leaves the object either unchanged or
// fully changed, and applying the intent again ends in the right state
// without doing anything twice. A dropped session is Unavailable
// (retryable); a "-ERR" answer fails the intent with the server's words.
//
// Changes this applier made are remembered (in memory) until a pass sees
// them, and that pass tags them with the intent id (origin_intent).
//
// Thread safety: RunOnce/Run and Apply may run on different threads; each
// uses its own CLI session.
#ifndef DIRLEDGER_ENGINE_AXIGEN_AXIGEN_MAIL_DIRECTORY_H_
#define DIRLEDGER_ENGINE_AXIGEN_AXIGEN_MAIL_DIRECTORY_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/axigen/cli_client.h"
#include "engine/mail_directory.h"
#include "engine/mail_object.h"
#include "replay/rules.h"

namespace dirledger {

struct AxigenMailOptions {
  AxigenEndpoint endpoint;
  double polling_interval_s = 30;
  double transient_error_retry_interval_s = 10;
};

// What one pass read: the objects, and those that could not be represented
// (a name that is not a valid address, ...), as messages.
struct AxigenSnapshot {
  std::vector<MailObject> objects;  // by address
  std::vector<ObjectError> errors;
};

class AxigenMailDirectory : public MailDirectory {
 public:
  AxigenMailDirectory(AxigenMailOptions options,
                      std::shared_ptr<const RuleSet> rules);
  ~AxigenMailDirectory() override;

  // From the config's [mail] section; reads the password (password_file or
  // password_env) now.
  static Result<std::unique_ptr<AxigenMailDirectory>> FromConfig(
      const Config& config, std::shared_ptr<const RuleSet> rules);

  void SetRules(std::shared_ptr<const RuleSet> rules);

  const std::string& id() const override { return id_; }
  Status RunOnce(std::string_view cookie, SourceSink* sink) override;
  Status Run(std::string_view cookie, SourceSink* sink) override;
  ApplyResult Apply(const Intent& intent) override;

  // Reads every configured domain (the source's view of Axigen).
  Result<AxigenSnapshot> ReadSnapshot();
  // Reads one object (std::nullopt: no such account or group).
  Result<std::optional<MailObject>> ReadObject(std::string_view address);

 private:
  struct Session {
    std::mutex mu;
    std::unique_ptr<AxigenCliClient> client;
  };
  // The session's client, connected and logged in; `*fresh` tells whether
  // it was connected just now.
  Result<AxigenCliClient*> Connected(Session* s, bool* fresh);
  Result<AxigenSnapshot> ReadSnapshotOnce(AxigenCliClient* c);
  Status PollOnce(std::string_view cookie, SourceSink* sink,
                  std::string* new_cookie);
  ApplyResult ApplyLocked(const Intent& intent, AxigenCliClient* c);
  std::vector<std::string> Domains() const;
  std::string ConnectorFor(std::string_view domain) const;

  std::string id_ = "mail";
  AxigenMailOptions options_;
  mutable std::mutex mu_;  // guards rules_, recent_
  std::shared_ptr<const RuleSet> rules_;
  struct Recent {
    std::uint64_t intent_id = 0;
    std::optional<AttrList> attrs;  // std::nullopt: deleted
  };
  std::map<std::string, Recent> recent_;  // by address
  Session poll_;
  Session apply_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_AXIGEN_AXIGEN_MAIL_DIRECTORY_H_

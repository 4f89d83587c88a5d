// EmbeddedMailDirectory: dirledger's own mail directory, used when no Axigen
// is configured ([mail] kind = "embedded"). It stands for an external mail
// system, so it keeps its own RocksDB under <data_dir>/mail, apart from the
// log: domains, accounts (contact fields, aliases, a password hash — never a
// clear password) and groups with members (docs/embedded-mail.md).
//
// Every write — an applied intent or an edit through MailAdmin — appends one
// change to a change feed, in the same WriteBatch as the object: a dense,
// increasing change sequence in its own column family. A change made by an
// intent carries that intent's id (ObservedChange::origin_intent). As a
// Source ("mail") it delivers the changes after a cursor (the decimal change
// sequence; "" = from the first) as full-image ObservedChange events, each
// batch with its new cursor in one SourceSink::Deliver; a first poll (no
// cursor) that finds nothing delivers an empty full refresh (RefreshPhase
// Begin/End, kFull) with cursor "0", so the log shows the side was polled. As
// an Applier it applies intents idempotently (engine/mail_object.h, PlanIntent)
// and remembers every intent id it applied, so a second Apply of the same
// intent (a crash between the write and its outcome) changes nothing. Like
// Axigen, it gives an address to one object only: a write that would make an
// object's address or alias another object's is refused (Conflict), whoever
// makes it.
//
// Thread safety: all methods are safe to call from several threads (the
// source thread, the applier thread and an admin); writes are serialized.
// The database is open in one process at a time (RocksDB's LOCK).
#ifndef DIRLEDGER_ENGINE_EMBEDDED_MAIL_EMBEDDED_MAIL_DIRECTORY_H_
#define DIRLEDGER_ENGINE_EMBEDDED_MAIL_EMBEDDED_MAIL_DIRECTORY_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/mail_directory.h"
#include "engine/mail_object.h"
#include "replay/rules.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace dirledger {

class RocksDatabase;

struct EmbeddedMailOptions {
  bool sync = true;            // fsync the WAL on every write
  std::size_t batch_size = 0;  // changes per Deliver; 0 = config batch_size
  double poll_interval_s = 1;  // Run: longest wait between two passes
  // Open for reading only: no lock is taken (so `dirledger mail list/show`
  // work while `dirledger run` holds the directory), every write fails.
  bool read_only = false;
  // DatabaseSpec::settle_compactions_at_close: false for the service.
  bool settle_compactions_at_close = true;
};

// One write to the directory: an object put (add/modify) or erased
// (delete), with its change record; or an object moved to a new address
// (renamed_from set, op kAdd: the object at its new address).
struct MailWrite {
  ChangeOp op = ChangeOp::kModify;  // kAdd, kModify or kDelete
  MailObject object;                // for kDelete only kind and address
  // A rename: the address the object leaves. The object, its password hash
  // and the groups listing it as a member move to object.address in the
  // same WriteBatch; the feed reports the groups' changes, the old
  // address's delete and the new address's add, in that order.
  std::string renamed_from;
  std::uint64_t origin_intent = 0;  // the intent that caused it, or 0
  // kAdd/kModify: a new password hash to store (never a clear password).
  std::optional<std::string> password_hash;
};

class EmbeddedMailDirectory : public MailDirectory {
 public:
  ~EmbeddedMailDirectory() override;
  EmbeddedMailDirectory(const EmbeddedMailDirectory&) = delete;
  EmbeddedMailDirectory& operator=(const EmbeddedMailDirectory&) = delete;

  // Where the embedded directory of `config` lives: <data_dir>/mail.
  static std::string DirFor(const Config& config);

  // Opens (creating) the directory in `dir` and makes sure every domain the
  // config names exists. `rules` gives each change its connector.
  static Result<std::unique_ptr<EmbeddedMailDirectory>> Open(
      const std::string& dir, std::shared_ptr<const RuleSet> rules,
      const EmbeddedMailOptions& options = {});

  // Replaces the rules (a config change).
  void SetRules(std::shared_ptr<const RuleSet> rules);

  // Source.
  const std::string& id() const override { return id_; }
  Status RunOnce(std::string_view cookie, SourceSink* sink) override;
  Status Run(std::string_view cookie, SourceSink* sink) override;
  // A pass reads the change feed from its cursor.
  bool PassIsIncremental() const override { return true; }

  // Applier. Writes for intents are made durable by Sync().
  ApplyResult Apply(const Intent& intent) override;
  Status Sync() override;

  // Store access (MailAdmin builds on these).
  Status AddDomain(std::string_view domain);
  Result<std::vector<std::string>> Domains() const;
  bool HasDomain(std::string_view domain) const;
  // The object at `address` (normalized), or std::nullopt.
  Result<std::optional<MailObject>> Get(std::string_view address) const;
  // Visits objects in address order, only those of `domain` unless it is
  // "". The callback returns false to stop.
  Status ForEach(std::string_view domain,
                 const std::function<bool(const MailObject&)>& fn) const;
  bool HasPassword(std::string_view address) const;
  // Checks `password` against the stored hash.
  bool CheckPassword(std::string_view address, std::string_view password) const;

  // Commits one write and its change record atomically; returns the change
  // sequence. REQUIRES: the object was validated (NormalizeAttrs).
  Result<std::uint64_t> Commit(const MailWrite& write);
  // Read-modify-write of one address, serialized with every other write:
  // `fn` sees the current object and returns the write to commit, or
  // std::nullopt for none. Returns the change sequence (0: none).
  using UpdateFn = std::function<Result<std::optional<MailWrite>>(
      const std::optional<MailObject>&)>;
  Result<std::uint64_t> Update(std::string_view address, const UpdateFn& fn);

  // The last change sequence (0 when none).
  std::uint64_t last_change() const;
  // Reads up to `max` changes after `after`, in order, connector filled.
  Status ReadChanges(std::uint64_t after, std::size_t max,
                     std::vector<ObservedChange>* out,
                     std::uint64_t* last) const;

  const std::string& dir() const { return dir_; }

  // A RocksDB checkpoint of the directory into `backup_dir` (must not
  // exist), for `dirledger backup` and the automatic backups of `run`.
  Status Checkpoint(const std::string& backup_dir) const;
  // Replaces the directory in `dir` with a checkpoint. REQUIRES: not open.
  static Status Restore(const std::string& backup_dir, const std::string& dir);

 private:
  EmbeddedMailDirectory() = default;
  Status Load();
  // Delivers every change after *pos, advancing *pos to the last delivered.
  Status DeliverFrom(std::uint64_t* pos, SourceSink* sink);
  // A first poll (`cookie` empty) that found nothing (`pos` 0) says so: an
  // empty full refresh, so that the log shows the side was polled (a
  // rollback to a later point knows what the mail side held: nothing).
  Status DeliverFirstPoll(std::string_view cookie, std::uint64_t pos,
                          SourceSink* sink);
  Result<std::uint64_t> CommitLocked(const MailWrite& write,
                                     std::uint64_t applied_intent);
  // Conflict when `o` would take an address another object holds: its own
  // address is another object's alias, or an alias of it is another
  // object's address or alias. REQUIRES: mu_ held.
  // `before`: the object as stored now; what it holds already is not
  // checked again (an alias two objects held before the check existed
  // must not lock either out of every later write).
  // `leaving`: an address this same write frees (a rename's old address),
  // which `o` may take as an alias.
  Status CheckAddressesLocked(const MailObject& o,
                              const std::optional<MailObject>& before,
                              std::string_view leaving = {}) const;
  // CommitLocked for a rename (write.renamed_from set).
  Result<std::uint64_t> CommitRenameLocked(const MailWrite& write,
                                           std::uint64_t applied_intent);
  // The object holding `alias` (the "aliases" family), if any.
  // REQUIRES: mu_ held.
  Result<std::optional<std::string>> AliasOwnerLocked(
      std::string_view alias) const;
  // Adds to `batch` what a write does to the alias index: `before` (the
  // object as it was, if it was) gives up its aliases, `after` (nullptr
  // for a delete) takes those no other object holds. REQUIRES: mu_ held.
  Status IndexAliasesLocked(const std::optional<MailObject>& before,
                            const MailObject* after,
                            rocksdb::WriteBatch* batch) const;
  std::string ConnectorFor(std::string_view domain) const;
  std::size_t BatchSize() const;

  std::string id_ = "mail";
  std::string dir_;
  EmbeddedMailOptions options_;
  std::unique_ptr<RocksDatabase> database_;
  rocksdb::DB* db_ = nullptr;                         // database_'s
  rocksdb::ColumnFamilyHandle* format_cf_ = nullptr;  // "default"
  rocksdb::ColumnFamilyHandle* objects_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* domains_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* secrets_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* changes_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* applied_cf_ = nullptr;
  // alias -> the address of the object holding it; kept by every write in
  // its batch. An address belongs to one object only, as in Axigen.
  rocksdb::ColumnFamilyHandle* aliases_cf_ = nullptr;

  mutable std::mutex mu_;  // guards rules_, last_change_, writes
  std::condition_variable changed_;
  std::shared_ptr<const RuleSet> rules_;
  std::uint64_t last_change_ = 0;
};

// A salted PBKDF2-HMAC-SHA256 hash of `password` for storage:
// "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>".
std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view stored_hash, std::string_view password);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_EMBEDDED_MAIL_EMBEDDED_MAIL_DIRECTORY_H_

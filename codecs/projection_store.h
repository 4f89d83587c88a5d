// ProjectionStore: the projection (codecs/projection.h) kept in two KvStores,
// `state` and `links`, with its secondary indexes (DN, mail address, alias,
// source, pending intents by target). The same code serves the RocksDB column
// families during intake and the in-memory replay, so both build the same
// projection byte for byte. Key layout: docs/event-format.md, "Projection".
//
// A record that fails verification is never returned as data: lookups return
// nothing and the first such error is kept in status(), which the caller
// checks before it commits anything decided from this view.
//
// Thread safety: not thread-safe.
#ifndef DIRLEDGER_CODECS_PROJECTION_STORE_H_
#define DIRLEDGER_CODECS_PROJECTION_STORE_H_

#include <functional>
#include <string>
#include <string_view>

#include "codecs/kv_store.h"
#include "codecs/projection.h"

namespace dirledger {

// The first byte of each kind of key of the `state` and `links` families
// (docs/event-format.md, "Projection").
namespace projection_key {
inline constexpr char kObject = 'o';
inline constexpr char kDnIndex = 'd';
inline constexpr char kAddressIndex = 'a';
inline constexpr char kAliasIndex = 'i';
inline constexpr char kSourceIndex = 's';
inline constexpr char kPending = 'p';
inline constexpr char kPendingByTarget = 't';
inline constexpr char kConflict = 'c';
inline constexpr char kHold = 'h';
inline constexpr char kDrift = 'r';
inline constexpr char kLinkByLdap = 'l';  // links family
inline constexpr char kLinkByMail = 'm';  // links family
inline constexpr char kWait = 'w';
inline constexpr char kFailure = 'f';
}  // namespace projection_key

// A readable form of a key of the `state` (`links` when `links`) family:
// the key with its bytes escaped, then what it is, e.g.
// `a10user1@example.com (address index: mail account user1@example.com)`.
std::string DescribeProjectionKey(std::string_view key, bool links);

class ProjectionStore : public ProjectionView {
 public:
  // First key bytes of the `state` families that are read on nearly every
  // decision and small: pending intents by target ('t'), waits ('w') and
  // the aliases mail objects hold ('i', asked for every address and alias
  // an LDAP entry maps to), all scanned by prefix with empty values; and the
  // open failures ('f', asked for by key for every object decided, and
  // nearly always absent). There are few of them at any time (one per
  // pending intent, per waiting object, per open failure) and one alias
  // key per alias, so a store may keep them in memory as well (the log
  // does) to answer those scans without a storage iterator (a RocksDB seek
  // per alias asked made a 100,000-entry sync 60 % slower) and those
  // lookups without a storage read.
  static constexpr std::string_view kScannedIndexBytes = "twif";
  // First key bytes of the `state` families scanned in full, but with large
  // values: pending intents ('p'), each with its whole intent. A store may
  // keep only their keys in memory and read the values by key: a scan then
  // never walks the deletions left by the intents completed before (after a
  // sync of 100,000 entries, 100,000 of them, on every scan until the next
  // compaction).
  static constexpr std::string_view kKeyOnlyIndexBytes = "p";

  // REQUIRES: both stores outlive this object.
  ProjectionStore(KvStore* state, KvStore* links);

  std::optional<ObjectState> GetObject(Side side, ObjectKind kind,
                                       std::string_view id) const override;
  // GetObject that returns a read or verification error instead of keeping
  // it in status(): for readers beside the sync (a source's lookups), whose
  // error must reach them and not stay in a view others read.
  Result<std::optional<ObjectState>> ReadObject(Side side, ObjectKind kind,
                                                std::string_view id) const;
  std::optional<std::string> FindIdByDn(Side side,
                                        std::string_view dn) const override;
  std::optional<std::string> FindIdByAddress(
      Side side, ObjectKind kind, std::string_view address) const override;
  std::vector<std::string> FindIdsByAlias(
      ObjectKind kind, std::string_view address) const override;
  std::optional<LinkState> GetLinkByLdap(ObjectKind kind,
                                         std::string_view id) const override;
  std::optional<LinkState> GetLinkByMail(ObjectKind kind,
                                         std::string_view id) const override;
  std::optional<PendingIntent> GetPending(
      std::uint64_t intent_id) const override;
  std::vector<PendingIntent> PendingFor(Side side, ObjectKind kind,
                                        std::string_view id) const override;
  std::optional<ConflictState> GetConflict(
      ObjectKind kind, std::string_view ldap_id) const override;
  std::optional<HoldState> GetHold(std::string_view hold_id) const override;
  std::optional<DriftState> GetDrift(ObjectKind kind,
                                     std::string_view ldap_id) const override;
  std::vector<std::string> WaitingFor(Side side,
                                      std::string_view key) const override;
  std::optional<FailureState> GetFailure(
      FailureKind kind, Side side, std::string_view object) const override;
  std::optional<FailureState> FindFailure(
      std::string_view failure_id) const override;

  // Applies every mutation in order, maintaining the indexes.
  Status Apply(const StateDelta& delta);
  Status Apply(const StateMutation& mutation);

  // Listings, in key order. The callback returns false to stop.
  Status ForEachObject(Side side,
                       const std::function<bool(const ObjectState&)>& fn) const;
  // Ids of objects a source reported, as (side, kind, id).
  Status ForEachObjectOfSource(
      std::string_view source,
      const std::function<bool(Side, ObjectKind, std::string_view)>& fn) const;
  Status ForEachLink(const std::function<bool(const LinkState&)>& fn) const;
  Status ForEachPending(
      const std::function<bool(const PendingIntent&)>& fn) const;
  // The ids of the pending intents, ascending, without reading them.
  Status ForEachPendingId(const std::function<bool(std::uint64_t)>& fn) const;
  Status ForEachConflict(
      const std::function<bool(const ConflictState&)>& fn) const;
  Status ForEachHold(const std::function<bool(const HoldState&)>& fn) const;
  Status ForEachDrift(const std::function<bool(const DriftState&)>& fn) const;
  // Open failures, by kind, side and object.
  Status ForEachFailure(
      const std::function<bool(const FailureState&)>& fn) const;

  // The first verification or storage error seen by a lookup.
  const Status& status() const { return status_; }

 private:
  template <typename T>
  Status TryLoad(const KvStore* kv, const std::string& key,
                 Status (*decode)(std::string_view, T*),
                 std::optional<T>* out) const;
  template <typename T>
  std::optional<T> Load(const KvStore* kv, const std::string& key,
                        Status (*decode)(std::string_view, T*)) const;
  void Fail(const Status& s) const;

  KvStore* state_;
  KvStore* links_;
  mutable Status status_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_PROJECTION_STORE_H_

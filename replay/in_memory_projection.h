// InMemoryProjection: the projection (codecs/projection.h) kept as decoded
// records in memory, for replay, what-if and tests. It answers every lookup
// exactly as ProjectionStore does over the same sequence of deltas,
// including how its DN, address, alias and pending-by-target indexes are
// kept (a test applies the same mutations to both and compares them), so
// decisions replayed against it are byte-identical to those made against
// the log's own projection. Unlike ProjectionStore it also hands out pointers
// to its records (Find*), which lets the reconciler read without copying.
//
// Point lookups use hash maps (codecs/string_map.h); every listing (ForEach*)
// visits records in ProjectionStore's key order, never in hash order.
//
// Objects and links, most of its memory, are kept packed (replay/
// packed_record.h) except those read or written lately: a lookup decodes a
// packed record and keeps it decoded, and Apply packs again those decoded
// longest ago beyond KeepDecoded's count. A replay reads mostly what it has
// just written, so it decodes little, and the replay of a 100,000-entry log
// peaks at half the memory it took with every record decoded.
//
// Thread safety: not thread-safe, even for lookups (they decode). Pointers
// from Find* are valid until the next Apply.
#ifndef DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_H_
#define DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "codecs/projection.h"
#include "codecs/projection_store.h"
#include "codecs/string_index.h"
#include "codecs/string_map.h"
#include "replay/packed_record.h"
#include "replay/packed_table.h"

namespace dirledger {
namespace checkpoint_bytes {
class Reader;
}

class InMemoryProjection : public ProjectionView {
 public:
  InMemoryProjection();
  ~InMemoryProjection() override;
  InMemoryProjection(const InMemoryProjection&);
  InMemoryProjection& operator=(const InMemoryProjection&);
  InMemoryProjection(InMemoryProjection&&) noexcept;
  InMemoryProjection& operator=(InMemoryProjection&&) noexcept;

  // ProjectionView (copies).
  std::optional<ObjectState> GetObject(Side side, ObjectKind kind,
                                       std::string_view id) const override;
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

  // The same lookups without copies; nullptr when absent.
  const ObjectState* FindObject(Side side, ObjectKind kind,
                                std::string_view id) const;
  const std::string_view* FindIdByDnRef(Side side, std::string_view dn) const;
  const std::string_view* FindIdByAddressRef(Side side, ObjectKind kind,
                                             std::string_view address) const;
  const LinkState* FindLinkByLdap(ObjectKind kind, std::string_view id) const;
  const LinkState* FindLinkByMail(ObjectKind kind, std::string_view id) const;
  const PendingIntent* FindPending(std::uint64_t intent_id) const;
  // Appends to `out` (cleared first), in intent id order.
  void FindPendingFor(Side side, ObjectKind kind, std::string_view id,
                      std::vector<const PendingIntent*>* out) const;
  const ConflictState* FindConflict(ObjectKind kind,
                                    std::string_view ldap_id) const;
  const HoldState* FindHold(std::string_view hold_id) const;
  const DriftState* FindDrift(ObjectKind kind, std::string_view ldap_id) const;
  const FailureState* FindFailureRecord(FailureKind kind, Side side,
                                        std::string_view object) const;

  // Applies every mutation in order (moving records out of `delta`).
  void Apply(StateDelta&& delta);
  void Apply(const StateDelta& delta);
  void Apply(StateMutation&& mutation);

  // Listings in ProjectionStore's key order; the callback returns false to
  // stop. They return Status only to match ProjectionStore (always OK).
  Status ForEachObject(Side side,
                       const std::function<bool(const ObjectState&)>& fn) const;
  Status ForEachObjectOfSource(
      std::string_view source,
      const std::function<bool(Side, ObjectKind, std::string_view)>& fn) const;
  Status ForEachLink(const std::function<bool(const LinkState&)>& fn) const;
  Status ForEachPending(
      const std::function<bool(const PendingIntent&)>& fn) const;
  Status ForEachConflict(
      const std::function<bool(const ConflictState&)>& fn) const;
  Status ForEachHold(const std::function<bool(const HoldState&)>& fn) const;
  Status ForEachDrift(const std::function<bool(const DriftState&)>& fn) const;
  Status ForEachFailure(
      const std::function<bool(const FailureState&)>& fn) const;
  // (side, lower-cased key, waiter id), in order.
  Status ForEachWait(const std::function<bool(Side, std::string_view,
                                              std::string_view)>& fn) const;

  // How many records of each packed table (objects, links) stay decoded
  // after an Apply, besides those looked up since the previous one (4096
  // unless set). 0 packs every record at every Apply: tests use it to run
  // every path through packed records.
  void KeepDecoded(std::size_t n) { keep_decoded_ = n; }

  std::size_t object_count() const { return objects_.size(); }
  std::size_t pending_count() const { return pending_.size(); }

  // Writes every record into `store` (empty), as PutX mutations in key
  // order: a ProjectionStore answering the same lookups.
  Status ExportTo(ProjectionStore* store) const;

  // Every table, the index entries included (what they hold depends on the
  // order of the mutations that made them, so they are kept, not rebuilt),
  // in key order: the same projection always gives the same bytes. For
  // projection checkpoints (replay/projection_checkpoint.h); the code is in
  // in_memory_projection_tables.cc.
  void AppendTables(std::string* out) const;
  // The same bytes, handed to `fn` in pieces (of about 1 MiB), so that they
  // can be compressed or compared without being held whole.
  using TablesFn = std::function<void(std::string_view piece)>;
  void WriteTables(const TablesFn& fn) const;
  // The projection as ProjectionStore stores it (docs/event-format.md,
  // "Projection"): every key and value of the `state` family (`links`:
  // false) or of the `links` family (true), index entries included, in key
  // order, as a store that had every delta applied holds them. For
  // `verify`, which compares them with the stored families without keeping
  // a second projection; the code is in in_memory_projection_stored.cc.
  using StoredFn =
      std::function<void(std::string_view key, std::string_view value)>;
  void ForEachStored(bool links, const StoredFn& fn) const;

  // Replaces this projection with tables AppendTables wrote. Corruption,
  // and this projection left empty, when they do not parse, a record does
  // not decode, a key repeats or bytes are left over.
  Status ReadTables(std::string_view bytes);
  // The same from `size` bytes `fill` gives as they come (a checkpoint's
  // tables as they are decompressed), never holding them whole. `fill`
  // puts up to n of the next bytes at dst and says how many (0: no more).
  using TablesFill = std::function<std::size_t(char* dst, std::size_t n)>;
  Status ReadTables(std::uint64_t size, const TablesFill& fill);

 private:
  template <typename V>
  using Table = StringMap<V>;

  Status ReadTablesFrom(checkpoint_bytes::Reader* in);
  using ObjectRow = PackedTable<ObjectState>::value_type;
  using LinkRow = PackedTable<LinkState>::value_type;

  // The record of `row`, decoded and kept so until an Apply packs it again.
  const ObjectState& Decoded(const ObjectRow& row) const;
  const LinkState& Decoded(const LinkRow& row) const;
  // The record of `row`: the decoded one, or unpacked into `scratch`.
  const ObjectState& Read(const ObjectRow& row, ObjectState* scratch) const;
  const LinkState& Read(const LinkRow& row, LinkState* scratch) const;
  // The source of the object of `row`, without decoding it.
  const std::string& SourceOf(const ObjectRow& row) const;
  // Stores `record` decoded in `row`.
  void Store(ObjectRow* row, ObjectState&& record);
  void Store(LinkRow* row, LinkState&& record);
  // Packs `record` as the packed bytes of `row`.
  void StorePacked(ObjectRow* row, const ObjectState& record);
  void StorePacked(LinkRow* row, const LinkState& record);
  // Packs the records decoded longest ago beyond keep_decoded_.
  void PackOldest();

  // Object, link, conflict and drift records are keyed by a short prefix
  // (side and kind bytes) followed by the id; built in a reused buffer.
  const std::string& Key(char a, char b, std::string_view id) const;
  const std::string& Key(char a, std::string_view id) const;

  void PutObjectRecord(ObjectState&& o);
  void EraseObjectRecord(Side side, ObjectKind kind, const std::string& id);

  NameTable names_;                   // of the packed records
  PackedTable<ObjectState> objects_;  // side kind id
  StringIndex dn_index_;              // side lower(dn) -> id
  StringIndex address_index_;         // side kind lower(address) -> id
  // side kind lower(alias) \0 holder id: ProjectionStore's alias index
  // keys (ordered, for its key order).
  std::set<std::string, std::less<>> alias_index_;
  PackedTable<LinkState> links_;  // kind ldap_id
  StringIndex links_by_mail_;     // kind mail_id -> ldap_id
  std::map<std::uint64_t, PendingIntent> pending_;
  // (side kind target_id, intent id): ProjectionStore's pending-by-target
  // index, kept with the same rules.
  std::set<std::pair<std::string, std::uint64_t>, std::less<>> pending_index_;
  Table<ConflictState> conflicts_;  // kind ldap_id
  Table<HoldState> holds_;          // hold_id
  Table<DriftState> drifts_;        // kind ldap_id
  // side lower(key) \0 waiter: ProjectionStore's wait keys.
  std::set<std::string, std::less<>> waits_;
  // kind side object: ProjectionStore's failure keys (few; ordered).
  std::map<std::string, FailureState, std::less<>> failures_;
  // The keys of the records decoded, oldest first (an erased or packed
  // record's key may linger; it is skipped).
  std::size_t keep_decoded_ = 4096;
  mutable std::deque<std::string> decoded_objects_;
  mutable std::deque<std::string> decoded_links_;
  std::string pack_buffer_;
  mutable std::string key_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_IN_MEMORY_PROJECTION_H_

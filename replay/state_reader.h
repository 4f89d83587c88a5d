// StateReader: the reconciler's read access to the projection for one
// decision. Lookups return pointers that stay valid for the whole decision.
// Over an InMemoryProjection the pointers point into it (no copies, the
// replay hot path); over any other ProjectionView (the log's ProjectionStore
// during intake) each lookup is copied into storage owned by the reader, and
// remembered: the projection does not change during a decision (changes go
// to the delta), and a decision asks for the same records several times
// (about 30 reads of 8 distinct records per synced entry), each a RocksDB
// read otherwise. Either way the reconciler sees the same records and
// decides the same.
//
// Thread safety: one decision at a time.
#ifndef DIRLEDGER_REPLAY_STATE_READER_H_
#define DIRLEDGER_REPLAY_STATE_READER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/projection.h"
#include "replay/in_memory_projection.h"

namespace dirledger {

class StateReader {
 public:
  explicit StateReader(const ProjectionView& view)
      : view_(view), fast_(dynamic_cast<const InMemoryProjection*>(&view)) {}

  const ObjectState* Object(Side side, ObjectKind kind, std::string_view id) {
    if (fast_) return fast_->FindObject(side, kind, id);
    return Remember(&objects_, Key(side, kind, id),
                    [&] { return view_.GetObject(side, kind, id); });
  }
  const std::string_view* IdByDn(Side side, std::string_view dn) {
    if (fast_) return fast_->FindIdByDnRef(side, dn);
    return ViewOf(Remember(&ids_by_dn_, Key(side, ObjectKind::kAccount, dn),
                           [&] { return Owned(view_.FindIdByDn(side, dn)); }));
  }
  const std::string_view* IdByAddress(Side side, ObjectKind kind,
                                      std::string_view address) {
    if (fast_) return fast_->FindIdByAddressRef(side, kind, address);
    return ViewOf(Remember(&ids_by_address_, Key(side, kind, address), [&] {
      return Owned(view_.FindIdByAddress(side, kind, address));
    }));
  }
  // The mail objects of `kind` holding `address` as an alias, in id order.
  std::vector<std::string> IdsByAlias(ObjectKind kind,
                                      std::string_view address) {
    if (fast_) return fast_->FindIdsByAlias(kind, address);
    const std::string k = Key(Side::kMail, kind, AsciiLower(address));
    for (const auto& [seen, ids] : ids_by_alias_)
      if (seen == k) return ids;
    ids_by_alias_.emplace_back(k, view_.FindIdsByAlias(kind, address));
    return ids_by_alias_.back().second;
  }
  const LinkState* LinkByLdap(ObjectKind kind, std::string_view id) {
    if (fast_) return fast_->FindLinkByLdap(kind, id);
    return Remember(&links_by_ldap_, Key(Side::kLdap, kind, id),
                    [&] { return view_.GetLinkByLdap(kind, id); });
  }
  const LinkState* LinkByMail(ObjectKind kind, std::string_view id) {
    if (fast_) return fast_->FindLinkByMail(kind, id);
    return Remember(&links_by_mail_, Key(Side::kMail, kind, id),
                    [&] { return view_.GetLinkByMail(kind, id); });
  }
  const PendingIntent* Pending(std::uint64_t intent_id) {
    if (fast_) return fast_->FindPending(intent_id);
    return Remember(&pending_, std::to_string(intent_id),
                    [&] { return view_.GetPending(intent_id); });
  }
  // In intent id order.
  void PendingFor(Side side, ObjectKind kind, std::string_view id,
                  std::vector<const PendingIntent*>* out) {
    if (fast_) return fast_->FindPendingFor(side, kind, id, out);
    const std::string key = Key(side, kind, id);
    for (const auto& [k, list] : pending_for_)
      if (k == key) {
        *out = list;
        return;
      }
    out->clear();
    for (PendingIntent& p : view_.PendingFor(side, kind, id))
      out->push_back(Keep(&pending_.values, std::move(p)));
    pending_for_.emplace_back(key, *out);
  }
  const ConflictState* Conflict(ObjectKind kind, std::string_view ldap_id) {
    if (fast_) return fast_->FindConflict(kind, ldap_id);
    return Remember(&conflicts_, Key(Side::kLdap, kind, ldap_id),
                    [&] { return view_.GetConflict(kind, ldap_id); });
  }
  const HoldState* Hold(std::string_view hold_id) {
    if (fast_) return fast_->FindHold(hold_id);
    return Remember(&holds_, std::string(hold_id),
                    [&] { return view_.GetHold(hold_id); });
  }
  std::vector<std::string> WaitingFor(Side side, std::string_view key) {
    if (fast_) return view_.WaitingFor(side, key);
    const std::string k = Key(side, ObjectKind::kAccount, key);
    for (const auto& [seen, ids] : waiting_for_)
      if (seen == k) return ids;
    waiting_for_.emplace_back(k, view_.WaitingFor(side, key));
    return waiting_for_.back().second;
  }
  const DriftState* Drift(ObjectKind kind, std::string_view ldap_id) {
    if (fast_) return fast_->FindDrift(kind, ldap_id);
    return Remember(&drifts_, Key(Side::kLdap, kind, ldap_id),
                    [&] { return view_.GetDrift(kind, ldap_id); });
  }
  const FailureState* Failure(FailureKind kind, Side side,
                              std::string_view object) {
    if (fast_) return fast_->FindFailureRecord(kind, side, object);
    std::string key{static_cast<char>(kind)};
    key += Key(side, ObjectKind::kAccount, object);
    return Remember(&failures_, std::move(key),
                    [&] { return view_.GetFailure(kind, side, object); });
  }
  std::optional<FailureState> FailureById(std::string_view failure_id) {
    return view_.FindFailure(failure_id);
  }

 private:
  // Copies live as long as the reader; vectors of unique_ptr keep them at
  // stable addresses and cost nothing until used.
  template <typename T>
  using Store = std::vector<std::unique_ptr<T>>;

  // Copies of the records read, and what each lookup key gave (nullptr:
  // absent). A decision reads a handful of records, so a linear search
  // is cheapest.
  template <typename T>
  struct Memo {
    Store<T> values;
    std::vector<std::pair<std::string, const T*>> seen;
  };

  static std::string Key(Side side, ObjectKind kind, std::string_view id) {
    std::string k{static_cast<char>(side), static_cast<char>(kind)};
    k += id;
    return k;
  }

  template <typename T>
  static const T* Keep(Store<T>* store, T&& v) {
    store->push_back(std::make_unique<T>(std::move(v)));
    return store->back().get();
  }
  template <typename T, typename Load>
  static const T* Remember(Memo<T>* memo, std::string key, const Load& load) {
    for (const auto& [k, v] : memo->seen)
      if (k == key) return v;
    std::optional<T> got = load();
    const T* v = got ? Keep(&memo->values, std::move(*got)) : nullptr;
    memo->seen.emplace_back(std::move(key), v);
    return v;
  }

  // An id read, and a view of it (what the lookups by DN and address
  // return, as the in-memory projection's do).
  struct OwnedId {
    explicit OwnedId(std::string id) : id(std::move(id)), view(this->id) {}
    OwnedId(OwnedId&& other) noexcept : id(std::move(other.id)), view(id) {}
    OwnedId(const OwnedId&) = delete;
    OwnedId& operator=(const OwnedId&) = delete;
    std::string id;
    std::string_view view;
  };
  static std::optional<OwnedId> Owned(std::optional<std::string> id) {
    if (!id) return std::nullopt;
    return OwnedId(std::move(*id));
  }
  static const std::string_view* ViewOf(const OwnedId* id) {
    return id ? &id->view : nullptr;
  }

  const ProjectionView& view_;
  const InMemoryProjection* fast_;
  Memo<ObjectState> objects_;
  Memo<OwnedId> ids_by_dn_;
  Memo<OwnedId> ids_by_address_;
  Memo<LinkState> links_by_ldap_;
  Memo<LinkState> links_by_mail_;
  Memo<PendingIntent> pending_;
  std::vector<std::pair<std::string, std::vector<const PendingIntent*>>>
      pending_for_;
  Memo<ConflictState> conflicts_;
  Memo<HoldState> holds_;
  std::vector<std::pair<std::string, std::vector<std::string>>> waiting_for_;
  std::vector<std::pair<std::string, std::vector<std::string>>> ids_by_alias_;
  Memo<DriftState> drifts_;
  Memo<FailureState> failures_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_STATE_READER_H_

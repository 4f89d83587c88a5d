// StateReader: the reconciler's read access to the projection for one
// decision. Lookups return pointers that stay valid for the whole decision.
// Over an InMemoryProjection the pointers point into it (no copies, the
// replay hot path); over any other ProjectionView (the log's ProjectionStore
// during intake) each lookup is copied into storage owned by the reader.
// Either way the reconciler sees the same records and decides the same.
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
    return Keep(&objects_, view_.GetObject(side, kind, id));
  }
  const std::string* IdByDn(Side side, std::string_view dn) {
    if (fast_) return fast_->FindIdByDnRef(side, dn);
    return Keep(&strings_, view_.FindIdByDn(side, dn));
  }
  const std::string* IdByAddress(Side side, ObjectKind kind,
                                 std::string_view address) {
    if (fast_) return fast_->FindIdByAddressRef(side, kind, address);
    return Keep(&strings_, view_.FindIdByAddress(side, kind, address));
  }
  const LinkState* LinkByLdap(ObjectKind kind, std::string_view id) {
    if (fast_) return fast_->FindLinkByLdap(kind, id);
    return Keep(&links_, view_.GetLinkByLdap(kind, id));
  }
  const LinkState* LinkByMail(ObjectKind kind, std::string_view id) {
    if (fast_) return fast_->FindLinkByMail(kind, id);
    return Keep(&links_, view_.GetLinkByMail(kind, id));
  }
  const PendingIntent* Pending(std::uint64_t intent_id) {
    if (fast_) return fast_->FindPending(intent_id);
    return Keep(&pending_, view_.GetPending(intent_id));
  }
  // In intent id order.
  void PendingFor(Side side, ObjectKind kind, std::string_view id,
                  std::vector<const PendingIntent*>* out) {
    if (fast_) return fast_->FindPendingFor(side, kind, id, out);
    out->clear();
    for (PendingIntent& p : view_.PendingFor(side, kind, id))
      out->push_back(Keep(&pending_, std::move(p)));
  }
  const ConflictState* Conflict(ObjectKind kind, std::string_view ldap_id) {
    if (fast_) return fast_->FindConflict(kind, ldap_id);
    return Keep(&conflicts_, view_.GetConflict(kind, ldap_id));
  }
  const HoldState* Hold(std::string_view hold_id) {
    if (fast_) return fast_->FindHold(hold_id);
    return Keep(&holds_, view_.GetHold(hold_id));
  }
  std::vector<std::string> WaitingFor(Side side, std::string_view key) {
    return view_.WaitingFor(side, key);
  }
  const DriftState* Drift(ObjectKind kind, std::string_view ldap_id) {
    if (fast_) return fast_->FindDrift(kind, ldap_id);
    return Keep(&drifts_, view_.GetDrift(kind, ldap_id));
  }

 private:
  // Copies live as long as the reader; vectors of unique_ptr keep them at
  // stable addresses and cost nothing until used.
  template <typename T>
  using Store = std::vector<std::unique_ptr<T>>;

  template <typename T>
  static const T* Keep(Store<T>* store, T&& v) {
    store->push_back(std::make_unique<T>(std::move(v)));
    return store->back().get();
  }
  template <typename T>
  static const T* Keep(Store<T>* store, std::optional<T>&& v) {
    if (!v) return nullptr;
    return Keep(store, std::move(*v));
  }

  const ProjectionView& view_;
  const InMemoryProjection* fast_;
  Store<ObjectState> objects_;
  Store<std::string> strings_;
  Store<LinkState> links_;
  Store<PendingIntent> pending_;
  Store<ConflictState> conflicts_;
  Store<HoldState> holds_;
  Store<DriftState> drifts_;
};

}  // namespace dirledger

#endif  // DIRLEDGER_REPLAY_STATE_READER_H_

#include "replay/in_memory_projection.h"

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include "codecs/attributes.h"
#include "replay/in_memory_projection_keys.h"

namespace dirledger {
namespace {

using projection_keys::FailureTableKey;
using projection_keys::KindByte;
using projection_keys::KindKey;
using projection_keys::ObjectKey;
using projection_keys::Prefixed;
using projection_keys::SideByte;

// One resize, then a plain loop the compiler vectorizes (a push_back per
// byte checked the capacity each time: 2 % of a replay's instructions).
void AppendLower(std::string* out, std::string_view s) {
  const std::size_t at = out->size();
  out->resize(at + s.size());
  char* p = out->data() + at;
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = AsciiLowerChar(s[i]);
}

std::string DnIndexKey(Side side, std::string_view dn) {
  std::string k(1, SideByte(side));
  AppendLower(&k, dn);
  return k;
}

std::string WaitPrefix(Side side, std::string_view member) {
  std::string k(1, SideByte(side));
  AppendLower(&k, member);
  k += '\0';
  return k;
}

std::string AddressIndexKey(Side side, ObjectKind kind,
                            std::string_view address) {
  std::string k{SideByte(side), KindByte(kind)};
  AppendLower(&k, address);
  return k;
}

// ProjectionStore's alias index key without its prefix byte: side kind
// lower(alias) \0 holder id.
std::string AliasIndexKey(Side side, ObjectKind kind, std::string_view alias,
                          std::string_view holder) {
  std::string k{SideByte(side), KindByte(kind)};
  AppendLower(&k, alias);
  k += '\0';
  k += holder;
  return k;
}

// Visits the rows of `table` whose keys start with `prefix`, in key order.
template <typename Table, typename Fn>
void InKeyOrder(const Table& table, std::string_view prefix, Fn&& fn) {
  for (const auto* row : projection_keys::SortedRows(table, prefix))
    if (!fn(*row)) return;
}

// InKeyOrder for tables of plain records.
template <typename Table, typename Fn>
void ValuesInKeyOrder(const Table& table, Fn&& fn) {
  InKeyOrder(table, "", [&fn](const auto& row) { return fn(row.second); });
}

// Packs the records of `table` whose keys `keys` holds, oldest first, until
// at most `keep` remain decoded; store_packed(row, record) packs a record
// whose packed bytes are stale.
template <typename Table, typename StorePacked>
void PackBeyond(std::size_t keep, Table* table, std::deque<std::string>* keys,
                StorePacked store_packed) {
  while (keys->size() > keep) {
    auto it = table->find(keys->front());
    if (it != table->end() && it->second.hot) {
      if (it->second.packed.empty()) store_packed(it, *it->second.hot);
      it->second.hot.reset();
    }
    keys->pop_front();
  }
}

// Puts `record` decoded in `row` of `table`, its packed bytes now stale; a
// row not decoded yet joins the decoded ones (`decoded`, oldest first).
template <typename Table, typename T>
void StoreDecoded(Table* table, typename Table::value_type* row, T&& record,
                  std::deque<std::string>* decoded) {
  auto& cell = row->second;
  if (cell.hot) {
    *cell.hot = std::move(record);
  } else {
    cell.hot = std::make_unique<std::decay_t<T>>(std::move(record));
    decoded->emplace_back(row->first);
  }
  table->ClearPacked(row);
}

Side SideOfKey(std::string_view key) { return static_cast<Side>(key[0] - '0'); }
ObjectKind KindOfKey(std::string_view key, std::size_t at) {
  return static_cast<ObjectKind>(key[at] - '0');
}

template <typename T>
std::optional<T> Copy(const T* p) {
  if (!p) return std::nullopt;
  return *p;
}
std::optional<std::string> Copy(const std::string_view* id) {
  if (!id) return std::nullopt;
  return std::string(*id);
}

}  // namespace

InMemoryProjection::InMemoryProjection() = default;
InMemoryProjection::~InMemoryProjection() = default;
InMemoryProjection::InMemoryProjection(const InMemoryProjection&) = default;
InMemoryProjection& InMemoryProjection::operator=(const InMemoryProjection&) =
    default;
InMemoryProjection::InMemoryProjection(InMemoryProjection&&) noexcept = default;
InMemoryProjection& InMemoryProjection::operator=(
    InMemoryProjection&&) noexcept = default;

const ObjectState& InMemoryProjection::Decoded(const ObjectRow& row) const {
  const PackedCell<ObjectState>& cell = row.second;
  if (!cell.hot) {
    cell.hot = std::make_unique<ObjectState>();
    UnpackObject(cell.packed, SideOfKey(row.first), KindOfKey(row.first, 1),
                 std::string_view(row.first).substr(2), names_, cell.hot.get());
    decoded_objects_.emplace_back(row.first);
  }
  return *cell.hot;
}

const LinkState& InMemoryProjection::Decoded(const LinkRow& row) const {
  const PackedCell<LinkState>& cell = row.second;
  if (!cell.hot) {
    cell.hot = std::make_unique<LinkState>();
    UnpackLink(cell.packed, KindOfKey(row.first, 0),
               std::string_view(row.first).substr(1), names_, cell.hot.get());
    decoded_links_.emplace_back(row.first);
  }
  return *cell.hot;
}

const ObjectState& InMemoryProjection::Read(const ObjectRow& row,
                                            ObjectState* scratch) const {
  if (row.second.hot) return *row.second.hot;
  UnpackObject(row.second.packed, SideOfKey(row.first), KindOfKey(row.first, 1),
               std::string_view(row.first).substr(2), names_, scratch);
  return *scratch;
}

const LinkState& InMemoryProjection::Read(const LinkRow& row,
                                          LinkState* scratch) const {
  if (row.second.hot) return *row.second.hot;
  UnpackLink(row.second.packed, KindOfKey(row.first, 0),
             std::string_view(row.first).substr(1), names_, scratch);
  return *scratch;
}

const std::string& InMemoryProjection::SourceOf(const ObjectRow& row) const {
  if (row.second.hot) return row.second.hot->source;
  return PackedObjectSource(row.second.packed, names_);
}

void InMemoryProjection::Store(ObjectRow* row, ObjectState&& record) {
  StoreDecoded(&objects_, row, std::move(record), &decoded_objects_);
}

void InMemoryProjection::Store(LinkRow* row, LinkState&& record) {
  StoreDecoded(&links_, row, std::move(record), &decoded_links_);
}

void InMemoryProjection::StorePacked(ObjectRow* row, const ObjectState& o) {
  pack_buffer_.clear();
  PackObject(o, &names_, &pack_buffer_);
  objects_.SetPacked(row, pack_buffer_);
}

void InMemoryProjection::StorePacked(LinkRow* row, const LinkState& l) {
  pack_buffer_.clear();
  PackLink(l, &names_, &pack_buffer_);
  links_.SetPacked(row, pack_buffer_);
}

void InMemoryProjection::PackOldest() {
  const auto store = [this](auto* row, const auto& record) {
    StorePacked(row, record);
  };
  PackBeyond(keep_decoded_, &objects_, &decoded_objects_, store);
  PackBeyond(keep_decoded_, &links_, &decoded_links_, store);
}

const std::string& InMemoryProjection::Key(char a, char b,
                                           std::string_view id) const {
  key_.clear();
  key_.push_back(a);
  key_.push_back(b);
  key_.append(id);
  return key_;
}

const std::string& InMemoryProjection::Key(char a, std::string_view id) const {
  key_.clear();
  key_.push_back(a);
  key_.append(id);
  return key_;
}

const ObjectState* InMemoryProjection::FindObject(Side side, ObjectKind kind,
                                                  std::string_view id) const {
  auto it = objects_.find(Key(SideByte(side), KindByte(kind), id));
  return it == objects_.end() ? nullptr : &Decoded(*it);
}

const std::string_view* InMemoryProjection::FindIdByDnRef(
    Side side, std::string_view dn) const {
  key_.clear();
  key_.push_back(SideByte(side));
  AppendLower(&key_, dn);
  auto it = dn_index_.find(key_);
  return it == dn_index_.end() ? nullptr : &it->second;
}

const std::string_view* InMemoryProjection::FindIdByAddressRef(
    Side side, ObjectKind kind, std::string_view address) const {
  key_.clear();
  key_.push_back(SideByte(side));
  key_.push_back(KindByte(kind));
  AppendLower(&key_, address);
  auto it = address_index_.find(key_);
  return it == address_index_.end() ? nullptr : &it->second;
}

const LinkState* InMemoryProjection::FindLinkByLdap(ObjectKind kind,
                                                    std::string_view id) const {
  auto it = links_.find(Key(KindByte(kind), id));
  return it == links_.end() ? nullptr : &Decoded(*it);
}

const LinkState* InMemoryProjection::FindLinkByMail(ObjectKind kind,
                                                    std::string_view id) const {
  auto it = links_by_mail_.find(Key(KindByte(kind), id));
  if (it == links_by_mail_.end()) return nullptr;
  return FindLinkByLdap(kind, it->second);
}

const PendingIntent* InMemoryProjection::FindPending(
    std::uint64_t intent_id) const {
  auto it = pending_.find(intent_id);
  return it == pending_.end() ? nullptr : &it->second;
}

void InMemoryProjection::FindPendingFor(
    Side side, ObjectKind kind, std::string_view id,
    std::vector<const PendingIntent*>* out) const {
  out->clear();
  if (pending_.empty()) return;
  const std::string& k = Key(SideByte(side), KindByte(kind), id);
  for (auto it =
           pending_index_.lower_bound(std::make_pair(k, std::uint64_t{0}));
       it != pending_index_.end() && it->first == k; ++it) {
    if (const PendingIntent* p = FindPending(it->second)) out->push_back(p);
  }
}

const ConflictState* InMemoryProjection::FindConflict(
    ObjectKind kind, std::string_view ldap_id) const {
  auto it = conflicts_.find(Key(KindByte(kind), ldap_id));
  return it == conflicts_.end() ? nullptr : &it->second;
}

const HoldState* InMemoryProjection::FindHold(std::string_view hold_id) const {
  auto it = holds_.find(hold_id);
  return it == holds_.end() ? nullptr : &it->second;
}

const DriftState* InMemoryProjection::FindDrift(
    ObjectKind kind, std::string_view ldap_id) const {
  auto it = drifts_.find(Key(KindByte(kind), ldap_id));
  return it == drifts_.end() ? nullptr : &it->second;
}

const FailureState* InMemoryProjection::FindFailureRecord(
    FailureKind kind, Side side, std::string_view object) const {
  if (failures_.empty()) return nullptr;
  auto it = failures_.find(FailureTableKey(kind, side, object));
  return it == failures_.end() ? nullptr : &it->second;
}

std::optional<FailureState> InMemoryProjection::GetFailure(
    FailureKind kind, Side side, std::string_view object) const {
  return Copy(FindFailureRecord(kind, side, object));
}

std::optional<FailureState> InMemoryProjection::FindFailure(
    std::string_view failure_id) const {
  for (const auto& [key, f] : failures_)
    if (EqualsIgnoreCase(FailureId(f), failure_id)) return f;
  return std::nullopt;
}

std::vector<std::string> InMemoryProjection::WaitingFor(
    Side side, std::string_view key) const {
  std::vector<std::string> out;
  if (waits_.empty()) return out;
  const std::string prefix = WaitPrefix(side, key);
  for (auto it = waits_.lower_bound(prefix);
       it != waits_.end() && it->compare(0, prefix.size(), prefix) == 0; ++it)
    out.push_back(it->substr(prefix.size()));
  return out;
}

std::optional<ObjectState> InMemoryProjection::GetObject(
    Side side, ObjectKind kind, std::string_view id) const {
  return Copy(FindObject(side, kind, id));
}

std::optional<std::string> InMemoryProjection::FindIdByDn(
    Side side, std::string_view dn) const {
  return Copy(FindIdByDnRef(side, dn));
}

std::optional<std::string> InMemoryProjection::FindIdByAddress(
    Side side, ObjectKind kind, std::string_view address) const {
  return Copy(FindIdByAddressRef(side, kind, address));
}

std::vector<std::string> InMemoryProjection::FindIdsByAlias(
    ObjectKind kind, std::string_view address) const {
  std::vector<std::string> out;
  if (alias_index_.empty()) return out;
  const std::string prefix = AliasIndexKey(Side::kMail, kind, address, "");
  for (auto it = alias_index_.lower_bound(prefix);
       it != alias_index_.end() && it->compare(0, prefix.size(), prefix) == 0;
       ++it)
    out.push_back(it->substr(prefix.size()));
  return out;
}

std::optional<LinkState> InMemoryProjection::GetLinkByLdap(
    ObjectKind kind, std::string_view id) const {
  return Copy(FindLinkByLdap(kind, id));
}

std::optional<LinkState> InMemoryProjection::GetLinkByMail(
    ObjectKind kind, std::string_view id) const {
  return Copy(FindLinkByMail(kind, id));
}

std::optional<PendingIntent> InMemoryProjection::GetPending(
    std::uint64_t intent_id) const {
  return Copy(FindPending(intent_id));
}

std::vector<PendingIntent> InMemoryProjection::PendingFor(
    Side side, ObjectKind kind, std::string_view id) const {
  std::vector<const PendingIntent*> refs;
  FindPendingFor(side, kind, id, &refs);
  std::vector<PendingIntent> out;
  out.reserve(refs.size());
  for (const PendingIntent* p : refs) out.push_back(*p);
  return out;
}

std::optional<ConflictState> InMemoryProjection::GetConflict(
    ObjectKind kind, std::string_view ldap_id) const {
  return Copy(FindConflict(kind, ldap_id));
}

std::optional<HoldState> InMemoryProjection::GetHold(
    std::string_view hold_id) const {
  return Copy(FindHold(hold_id));
}

std::optional<DriftState> InMemoryProjection::GetDrift(
    ObjectKind kind, std::string_view ldap_id) const {
  return Copy(FindDrift(kind, ldap_id));
}

// The index rules below are ProjectionStore::Apply's, step for step.
void InMemoryProjection::PutObjectRecord(ObjectState&& o) {
  auto it = objects_.find(Key(SideByte(o.side), KindByte(o.kind), o.id));
  if (o.side == Side::kMail) {
    const std::vector<std::string> aliases = IndexedAliases(o);
    std::vector<std::string> old_aliases;
    if (it != objects_.end()) old_aliases = IndexedAliases(Decoded(*it));
    if (aliases != old_aliases) {
      for (const std::string& a : old_aliases)
        alias_index_.erase(AliasIndexKey(o.side, o.kind, a, o.id));
      for (const std::string& a : aliases)
        alias_index_.insert(AliasIndexKey(o.side, o.kind, a, o.id));
    }
  }
  if (it != objects_.end()) {
    const ObjectState& old = Decoded(*it);
    if (!EqualsIgnoreCase(old.dn, o.dn) && !old.dn.empty())
      dn_index_.erase(DnIndexKey(o.side, old.dn));
    if (!EqualsIgnoreCase(old.address, o.address) && !old.address.empty())
      address_index_.erase(AddressIndexKey(o.side, o.kind, old.address));
  }
  // Index entries are written only when they change (the same result as
  // ProjectionStore's unconditional put, without the allocations).
  if (!o.dn.empty()) {
    const std::string_view* id = FindIdByDnRef(o.side, o.dn);
    if (!id || *id != o.id) dn_index_.Set(DnIndexKey(o.side, o.dn), o.id);
  }
  if (!o.address.empty()) {
    const std::string_view* id = FindIdByAddressRef(o.side, o.kind, o.address);
    if (!id || *id != o.id)
      address_index_.Set(AddressIndexKey(o.side, o.kind, o.address), o.id);
  }
  if (it == objects_.end())
    it = objects_.try_emplace(ObjectKey(o.side, o.kind, o.id)).first;
  Store(it, std::move(o));
}

void InMemoryProjection::EraseObjectRecord(Side side, ObjectKind kind,
                                           const std::string& id) {
  auto it = objects_.find(ObjectKey(side, kind, id));
  if (it == objects_.end()) return;
  ObjectState scratch;
  const ObjectState& old = Read(*it, &scratch);
  if (!old.dn.empty()) {
    auto d = dn_index_.find(DnIndexKey(side, old.dn));
    if (d != dn_index_.end() && d->second == id) dn_index_.erase(d);
  }
  if (!old.address.empty()) {
    auto a = address_index_.find(AddressIndexKey(side, kind, old.address));
    if (a != address_index_.end() && a->second == id) address_index_.erase(a);
  }
  for (const std::string& a : IndexedAliases(old))
    alias_index_.erase(AliasIndexKey(side, kind, a, id));
  objects_.erase(it);
}

void InMemoryProjection::Apply(StateMutation&& mutation) {
  std::visit(
      [this](auto&& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, PutObject>) {
          PutObjectRecord(std::move(m.object));
        } else if constexpr (std::is_same_v<M, EraseObject>) {
          EraseObjectRecord(m.side, m.kind, m.id);
        } else if constexpr (std::is_same_v<M, PutLink>) {
          LinkState& l = m.link;
          std::string key = KindKey(l.kind, l.ldap_id);
          auto old = links_.find(key);
          if (old != links_.end()) {
            const std::string_view old_mail_id =
                old->second.hot ? std::string_view(old->second.hot->mail_id)
                                : PackedLinkMailId(old->second.packed);
            if (old_mail_id != l.mail_id)
              links_by_mail_.erase(KindKey(l.kind, old_mail_id));
          }
          links_by_mail_.Set(KindKey(l.kind, l.mail_id), l.ldap_id);
          if (old == links_.end())
            old = links_.try_emplace(std::move(key)).first;
          Store(old, std::move(l));
        } else if constexpr (std::is_same_v<M, EraseLink>) {
          links_by_mail_.erase(KindKey(m.kind, m.mail_id));
          links_.erase(KindKey(m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutPending>) {
          const Intent& i = m.pending.intent;
          if (!i.target_id.empty())
            pending_index_.emplace(
                Prefixed(SideByte(i.target), KindByte(i.kind), i.target_id),
                i.id);
          const std::uint64_t id = i.id;
          pending_[id] = std::move(m.pending);
        } else if constexpr (std::is_same_v<M, ErasePending>) {
          auto it = pending_.find(m.intent_id);
          if (it == pending_.end()) return;
          const Intent& i = it->second.intent;
          if (!i.target_id.empty())
            pending_index_.erase(std::make_pair(
                Prefixed(SideByte(i.target), KindByte(i.kind), i.target_id),
                i.id));
          pending_.erase(it);
        } else if constexpr (std::is_same_v<M, PutConflict>) {
          std::string key = KindKey(m.conflict.kind, m.conflict.ldap_id);
          conflicts_[std::move(key)] = std::move(m.conflict);
        } else if constexpr (std::is_same_v<M, EraseConflict>) {
          conflicts_.erase(KindKey(m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutHold>) {
          std::string key = m.hold.hold.hold_id;
          holds_[std::move(key)] = std::move(m.hold);
        } else if constexpr (std::is_same_v<M, PutDrift>) {
          std::string key = KindKey(m.drift.kind, m.drift.ldap_id);
          drifts_[std::move(key)] = std::move(m.drift);
        } else if constexpr (std::is_same_v<M, EraseDrift>) {
          drifts_.erase(KindKey(m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutWait>) {
          waits_.insert(WaitPrefix(m.side, m.key) + m.waiter);
        } else if constexpr (std::is_same_v<M, EraseWait>) {
          waits_.erase(WaitPrefix(m.side, m.key) + m.waiter);
        } else if constexpr (std::is_same_v<M, PutFailure>) {
          std::string key =
              FailureTableKey(m.failure.kind, m.failure.side, m.failure.object);
          failures_[std::move(key)] = std::move(m.failure);
        } else {
          static_assert(std::is_same_v<M, EraseFailure>);
          failures_.erase(FailureTableKey(m.kind, m.side, m.object));
        }
      },
      std::move(mutation));
  PackOldest();
}

void InMemoryProjection::Apply(StateDelta&& delta) {
  for (StateMutation& m : delta.mutations) Apply(std::move(m));
  delta.mutations.clear();
}

void InMemoryProjection::Apply(const StateDelta& delta) {
  for (const StateMutation& m : delta.mutations) Apply(StateMutation(m));
}

Status InMemoryProjection::ForEachObject(
    Side side, const std::function<bool(const ObjectState&)>& fn) const {
  ObjectState scratch;
  InKeyOrder(objects_, std::string(1, SideByte(side)),
             [&](const ObjectRow& row) { return fn(Read(row, &scratch)); });
  return Status::Ok();
}

Status InMemoryProjection::ForEachObjectOfSource(
    std::string_view source,
    const std::function<bool(Side, ObjectKind, std::string_view)>& fn) const {
  if (source.empty()) return Status::Ok();
  InKeyOrder(objects_, "", [&](const ObjectRow& row) {
    if (SourceOf(row) != source) return true;
    return fn(SideOfKey(row.first), KindOfKey(row.first, 1),
              std::string_view(row.first).substr(2));
  });
  return Status::Ok();
}

Status InMemoryProjection::ForEachLink(
    const std::function<bool(const LinkState&)>& fn) const {
  LinkState scratch;
  InKeyOrder(links_, "",
             [&](const LinkRow& row) { return fn(Read(row, &scratch)); });
  return Status::Ok();
}

Status InMemoryProjection::ForEachPending(
    const std::function<bool(const PendingIntent&)>& fn) const {
  for (const auto& [id, p] : pending_)
    if (!fn(p)) break;
  return Status::Ok();
}

Status InMemoryProjection::ForEachConflict(
    const std::function<bool(const ConflictState&)>& fn) const {
  ValuesInKeyOrder(conflicts_, fn);
  return Status::Ok();
}

Status InMemoryProjection::ForEachHold(
    const std::function<bool(const HoldState&)>& fn) const {
  ValuesInKeyOrder(holds_, fn);
  return Status::Ok();
}

Status InMemoryProjection::ForEachDrift(
    const std::function<bool(const DriftState&)>& fn) const {
  ValuesInKeyOrder(drifts_, fn);
  return Status::Ok();
}

Status InMemoryProjection::ForEachFailure(
    const std::function<bool(const FailureState&)>& fn) const {
  for (const auto& [key, f] : failures_)
    if (!fn(f)) break;
  return Status::Ok();
}

Status InMemoryProjection::ForEachWait(
    const std::function<bool(Side, std::string_view, std::string_view)>& fn)
    const {
  for (const std::string& k : waits_) {
    const size_t nul = k.find('\0', 1);
    if (!fn(static_cast<Side>(k[0] - '0'),
            std::string_view(k).substr(1, nul - 1),
            std::string_view(k).substr(nul + 1)))
      break;
  }
  return Status::Ok();
}

Status InMemoryProjection::ExportTo(ProjectionStore* store) const {
  Status s;
  auto put = [&](StateMutation m) {
    if (s.ok()) s = store->Apply(m);
    return s.ok();
  };
  for (Side side : {Side::kLdap, Side::kMail})
    DIRLEDGER_RETURN_IF_ERROR(ForEachObject(
        side, [&](const ObjectState& o) { return put(PutObject{o}); }));
  DIRLEDGER_RETURN_IF_ERROR(
      ForEachLink([&](const LinkState& l) { return put(PutLink{l}); }));
  DIRLEDGER_RETURN_IF_ERROR(ForEachPending(
      [&](const PendingIntent& p) { return put(PutPending{p}); }));
  DIRLEDGER_RETURN_IF_ERROR(ForEachConflict(
      [&](const ConflictState& c) { return put(PutConflict{c}); }));
  DIRLEDGER_RETURN_IF_ERROR(
      ForEachHold([&](const HoldState& h) { return put(PutHold{h}); }));
  DIRLEDGER_RETURN_IF_ERROR(
      ForEachDrift([&](const DriftState& d) { return put(PutDrift{d}); }));
  DIRLEDGER_RETURN_IF_ERROR(ForEachFailure(
      [&](const FailureState& f) { return put(PutFailure{f}); }));
  DIRLEDGER_RETURN_IF_ERROR(ForEachWait(
      [&](Side side, std::string_view member, std::string_view group) {
        return put(PutWait{side, std::string(member), std::string(group)});
      }));
  return s;
}

}  // namespace dirledger

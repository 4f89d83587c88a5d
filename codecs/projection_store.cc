#include "codecs/projection_store.h"

#include <algorithm>
#include <type_traits>

namespace dirledger {
namespace {

using namespace projection_key;  // NOLINT: the key prefixes, throughout
static_assert(ProjectionStore::kScannedIndexBytes.find(kPendingByTarget) !=
                      std::string_view::npos &&
                  ProjectionStore::kScannedIndexBytes.find(kWait) !=
                      std::string_view::npos &&
                  ProjectionStore::kScannedIndexBytes.find(kAliasIndex) !=
                      std::string_view::npos &&
                  ProjectionStore::kScannedIndexBytes.find(kFailure) !=
                      std::string_view::npos,
              "the scanned index families are declared in the header");
static_assert(ProjectionStore::kKeyOnlyIndexBytes.find(kPending) !=
                  std::string_view::npos,
              "the key-only index families are declared in the header");

char SideByte(Side s) { return static_cast<char>('0' + static_cast<int>(s)); }
char KindByte(ObjectKind k) {
  return static_cast<char>('0' + static_cast<int>(k));
}

std::string ObjectKey(Side side, ObjectKind kind, std::string_view id) {
  std::string k{kObject, SideByte(side), KindByte(kind)};
  k += id;
  return k;
}
std::string DnKey(Side side, std::string_view dn) {
  std::string k{kDnIndex, SideByte(side)};
  k += AsciiLower(dn);
  return k;
}
std::string AddressKey(Side side, ObjectKind kind, std::string_view address) {
  std::string k{kAddressIndex, SideByte(side), KindByte(kind)};
  k += AsciiLower(address);
  return k;
}
// i side kind lower(alias) \0 holder id -> ""
std::string AliasPrefix(Side side, ObjectKind kind, std::string_view alias) {
  std::string k{kAliasIndex, SideByte(side), KindByte(kind)};
  k += AsciiLower(alias);
  k += '\0';
  return k;
}
std::string SourceKey(std::string_view source, Side side, ObjectKind kind,
                      std::string_view id) {
  std::string k{kSourceIndex};
  k += source;
  k += '\0';
  k += SideByte(side);
  k += KindByte(kind);
  k += id;
  return k;
}
std::string PendingKey(std::uint64_t intent_id) {
  std::string k{kPending};
  PutBigEndian64(&k, intent_id);
  return k;
}
std::string PendingTargetPrefix(Side side, ObjectKind kind,
                                std::string_view id) {
  std::string k{kPendingByTarget, SideByte(side), KindByte(kind)};
  k += id;
  k += '\0';
  return k;
}
std::string KindIdKey(char prefix, ObjectKind kind, std::string_view id) {
  std::string k{prefix, KindByte(kind)};
  k += id;
  return k;
}
// w side lower(key) \0 waiter -> ""
std::string WaitPrefix(Side side, std::string_view key) {
  std::string k{kWait, SideByte(side)};
  k += AsciiLower(key);
  k += '\0';
  return k;
}
// f kind side object -> FailureRecord
std::string FailureKey(FailureKind kind, Side side, std::string_view object) {
  std::string k{kFailure, static_cast<char>('0' + static_cast<int>(kind)),
                SideByte(side)};
  k += object;
  return k;
}
std::string HoldKey(std::string_view hold_id) {
  std::string k{kHold};
  k += hold_id;
  return k;
}

}  // namespace

namespace {

// Printable ASCII as is, anything else as \xNN.
std::string Escaped(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string SideText(char b) {
  if (b == SideByte(Side::kLdap)) return std::string(SideName(Side::kLdap));
  if (b == SideByte(Side::kMail)) return std::string(SideName(Side::kMail));
  return "side " + Escaped(std::string_view(&b, 1));
}

std::string KindText(char b) {
  if (b == KindByte(ObjectKind::kAccount))
    return std::string(KindName(ObjectKind::kAccount));
  if (b == KindByte(ObjectKind::kGroup))
    return std::string(KindName(ObjectKind::kGroup));
  return "kind " + Escaped(std::string_view(&b, 1));
}

// What a key names, without the key itself; "" for an unknown layout.
std::string KeyMeaning(std::string_view key, bool links) {
  if (key.empty()) return "";
  const char tag = key[0];
  std::string_view rest = key.substr(1);
  auto side_kind_id = [&](std::string_view what) {
    if (rest.size() < 2) return std::string();
    return std::string(what) + ": " + SideText(rest[0]) + " " +
           KindText(rest[1]) + " " + Escaped(rest.substr(2));
  };
  auto kind_id = [&](std::string_view what) {
    if (rest.empty()) return std::string();
    return std::string(what) + ": " + KindText(rest[0]) + " " +
           Escaped(rest.substr(1));
  };
  if (links) {
    if (tag == kLinkByLdap) return kind_id("link by LDAP id");
    if (tag == kLinkByMail) return kind_id("link index by mail id");
    return "";
  }
  switch (tag) {
    case kObject:
      return side_kind_id("object");
    case kAddressIndex:
      return side_kind_id("address index");
    case kAliasIndex: {
      const size_t nul = rest.find('\0');
      if (rest.size() < 2 || nul == std::string_view::npos || nul < 2)
        return "";
      return "alias index: " + SideText(rest[0]) + " " + KindText(rest[1]) +
             " " + Escaped(rest.substr(2, nul - 2)) + " held by " +
             Escaped(rest.substr(nul + 1));
    }
    case kDnIndex:
      if (rest.empty()) return "";
      return "DN index: " + SideText(rest[0]) + " " + Escaped(rest.substr(1));
    case kSourceIndex: {
      const size_t nul = rest.find('\0');
      if (nul == std::string_view::npos || rest.size() < nul + 3) return "";
      return "source index: " + Escaped(rest.substr(0, nul)) + " " +
             SideText(rest[nul + 1]) + " " + KindText(rest[nul + 2]) + " " +
             Escaped(rest.substr(nul + 3));
    }
    case kPending:
      if (rest.size() != 8) return "";
      return "pending intent " + std::to_string(GetBigEndian64(rest));
    case kPendingByTarget: {
      if (rest.size() < 2 + 1 + 8 || rest[rest.size() - 9] != '\0') return "";
      return "pending intent index: " + SideText(rest[0]) + " " +
             KindText(rest[1]) + " " +
             Escaped(rest.substr(2, rest.size() - 2 - 9)) + " intent " +
             std::to_string(GetBigEndian64(rest.substr(rest.size() - 8)));
    }
    case kConflict:
      return kind_id("conflict");
    case kHold:
      return "hold " + Escaped(rest);
    case kDrift:
      return kind_id("drift");
    case kFailure: {
      if (rest.size() < 2) return "";
      const char kind = rest[0];
      std::string what = kind == '0'   ? "failed write"
                         : kind == '1' ? "object error"
                         : kind == '2'
                             ? "refused address"
                             : "failure of kind " + Escaped(rest.substr(0, 1));
      return what + ": " + SideText(rest[1]) + " " + Escaped(rest.substr(2));
    }
    case kWait: {
      const size_t nul = rest.find('\0', 1);
      if (rest.empty() || nul == std::string_view::npos) return "";
      return "wait: " + SideText(rest[0]) + " " +
             Escaped(rest.substr(nul + 1)) + " waits for " +
             Escaped(rest.substr(1, nul - 1));
    }
    default:
      return "";
  }
}

}  // namespace

std::string DescribeProjectionKey(std::string_view key, bool links) {
  std::string meaning = KeyMeaning(key, links);
  return Escaped(key) + (meaning.empty()
                             ? " (not a key of the projection's layout)"
                             : " (" + meaning + ")");
}

ProjectionStore::ProjectionStore(KvStore* state, KvStore* links)
    : state_(state), links_(links) {}

void ProjectionStore::Fail(const Status& s) const {
  if (status_.ok()) status_ = s;
}

template <typename T>
Status ProjectionStore::TryLoad(const KvStore* kv, const std::string& key,
                                Status (*decode)(std::string_view, T*),
                                std::optional<T>* out) const {
  out->reset();
  std::string value;
  Status s = kv->Get(key, &value);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return s;
  T decoded;
  s = decode(value, &decoded);
  if (!s.ok())
    return s.WithContext("projection key " + key.substr(0, 1) + "/" +
                         key.substr(1));
  *out = std::move(decoded);
  return Status::Ok();
}

template <typename T>
std::optional<T> ProjectionStore::Load(const KvStore* kv,
                                       const std::string& key,
                                       Status (*decode)(std::string_view,
                                                        T*)) const {
  std::optional<T> out;
  if (Status s = TryLoad(kv, key, decode, &out); !s.ok()) Fail(s);
  return out;
}

Result<std::optional<ObjectState>> ProjectionStore::ReadObject(
    Side side, ObjectKind kind, std::string_view id) const {
  std::optional<ObjectState> out;
  DIRLEDGER_RETURN_IF_ERROR(TryLoad<ObjectState>(
      state_, ObjectKey(side, kind, id), &DecodeObjectState, &out));
  return out;
}

std::optional<ObjectState> ProjectionStore::GetObject(
    Side side, ObjectKind kind, std::string_view id) const {
  return Load<ObjectState>(state_, ObjectKey(side, kind, id),
                           &DecodeObjectState);
}

std::optional<std::string> ProjectionStore::FindIdByDn(
    Side side, std::string_view dn) const {
  std::string id;
  Status s = state_->Get(DnKey(side, dn), &id);
  if (s.ok()) return id;
  if (!s.IsNotFound()) Fail(s);
  return std::nullopt;
}

std::optional<std::string> ProjectionStore::FindIdByAddress(
    Side side, ObjectKind kind, std::string_view address) const {
  std::string id;
  Status s = state_->Get(AddressKey(side, kind, address), &id);
  if (s.ok()) return id;
  if (!s.IsNotFound()) Fail(s);
  return std::nullopt;
}

std::vector<std::string> ProjectionStore::FindIdsByAlias(
    ObjectKind kind, std::string_view address) const {
  std::vector<std::string> out;
  const std::string prefix = AliasPrefix(Side::kMail, kind, address);
  Status s = state_->Scan(prefix, [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) Fail(s);
  return out;
}

std::optional<LinkState> ProjectionStore::GetLinkByLdap(
    ObjectKind kind, std::string_view id) const {
  return Load<LinkState>(links_, KindIdKey(kLinkByLdap, kind, id),
                         &DecodeLinkState);
}

std::optional<LinkState> ProjectionStore::GetLinkByMail(
    ObjectKind kind, std::string_view id) const {
  std::string ldap_id;
  Status s = links_->Get(KindIdKey(kLinkByMail, kind, id), &ldap_id);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) {
    Fail(s);
    return std::nullopt;
  }
  return GetLinkByLdap(kind, ldap_id);
}

std::optional<PendingIntent> ProjectionStore::GetPending(
    std::uint64_t intent_id) const {
  return Load<PendingIntent>(state_, PendingKey(intent_id),
                             &DecodePendingIntent);
}

std::vector<PendingIntent> ProjectionStore::PendingFor(
    Side side, ObjectKind kind, std::string_view id) const {
  std::vector<PendingIntent> out;
  const std::string prefix = PendingTargetPrefix(side, kind, id);
  Status s = state_->Scan(prefix, [&](std::string_view key, std::string_view) {
    if (key.size() != prefix.size() + 8) return true;
    auto p = GetPending(GetBigEndian64(key.substr(prefix.size())));
    if (p) out.push_back(std::move(*p));
    return true;
  });
  if (!s.ok()) Fail(s);
  return out;
}

std::optional<ConflictState> ProjectionStore::GetConflict(
    ObjectKind kind, std::string_view ldap_id) const {
  return Load<ConflictState>(state_, KindIdKey(kConflict, kind, ldap_id),
                             &DecodeConflictState);
}

std::optional<HoldState> ProjectionStore::GetHold(
    std::string_view hold_id) const {
  return Load<HoldState>(state_, HoldKey(hold_id), &DecodeHoldState);
}

std::optional<DriftState> ProjectionStore::GetDrift(
    ObjectKind kind, std::string_view ldap_id) const {
  return Load<DriftState>(state_, KindIdKey(kDrift, kind, ldap_id),
                          &DecodeDriftState);
}

std::optional<FailureState> ProjectionStore::GetFailure(
    FailureKind kind, Side side, std::string_view object) const {
  return Load<FailureState>(state_, FailureKey(kind, side, object),
                            &DecodeFailureState);
}

std::optional<FailureState> ProjectionStore::FindFailure(
    std::string_view failure_id) const {
  std::optional<FailureState> found;
  Status s = ForEachFailure([&](const FailureState& f) {
    if (!EqualsIgnoreCase(FailureId(f), failure_id)) return true;
    found = f;
    return false;
  });
  if (!s.ok()) Fail(s);
  return found;
}

std::vector<std::string> ProjectionStore::WaitingFor(
    Side side, std::string_view key) const {
  std::vector<std::string> out;
  const std::string prefix = WaitPrefix(side, key);
  Status s = state_->Scan(prefix, [&](std::string_view key, std::string_view) {
    out.emplace_back(key.substr(prefix.size()));
    return true;
  });
  if (!s.ok()) Fail(s);
  return out;
}

Status ProjectionStore::Apply(const StateDelta& delta) {
  for (const StateMutation& m : delta.mutations)
    DIRLEDGER_RETURN_IF_ERROR(Apply(m));
  return status_;
}

Status ProjectionStore::Apply(const StateMutation& mutation) {
  return std::visit(
      [this](const auto& m) -> Status {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, PutObject>) {
          const ObjectState& o = m.object;
          auto old = GetObject(o.side, o.kind, o.id);
          const std::vector<std::string> aliases = IndexedAliases(o);
          std::vector<std::string> old_aliases;
          if (old) old_aliases = IndexedAliases(*old);
          for (const std::string& a : old_aliases)
            if (!std::binary_search(aliases.begin(), aliases.end(), a))
              DIRLEDGER_RETURN_IF_ERROR(
                  state_->Delete(AliasPrefix(o.side, o.kind, a) + o.id));
          for (const std::string& a : aliases)
            if (!std::binary_search(old_aliases.begin(), old_aliases.end(), a))
              DIRLEDGER_RETURN_IF_ERROR(
                  state_->Put(AliasPrefix(o.side, o.kind, a) + o.id, ""));
          if (old) {
            if (!EqualsIgnoreCase(old->dn, o.dn) && !old->dn.empty())
              DIRLEDGER_RETURN_IF_ERROR(state_->Delete(DnKey(o.side, old->dn)));
            if (!EqualsIgnoreCase(old->address, o.address) &&
                !old->address.empty())
              DIRLEDGER_RETURN_IF_ERROR(
                  state_->Delete(AddressKey(o.side, o.kind, old->address)));
            if (old->source != o.source && !old->source.empty())
              DIRLEDGER_RETURN_IF_ERROR(
                  state_->Delete(SourceKey(old->source, o.side, o.kind, o.id)));
          }
          if (!o.dn.empty())
            DIRLEDGER_RETURN_IF_ERROR(state_->Put(DnKey(o.side, o.dn), o.id));
          if (!o.address.empty())
            DIRLEDGER_RETURN_IF_ERROR(
                state_->Put(AddressKey(o.side, o.kind, o.address), o.id));
          if (!o.source.empty())
            DIRLEDGER_RETURN_IF_ERROR(
                state_->Put(SourceKey(o.source, o.side, o.kind, o.id), ""));
          return state_->Put(ObjectKey(o.side, o.kind, o.id),
                             EncodeObjectState(o));
        } else if constexpr (std::is_same_v<M, EraseObject>) {
          auto old = GetObject(m.side, m.kind, m.id);
          if (!old) return status_;
          if (!old->dn.empty()) {
            // Only drop the DN index if it still points at this object.
            auto id = FindIdByDn(m.side, old->dn);
            if (id && *id == m.id)
              DIRLEDGER_RETURN_IF_ERROR(state_->Delete(DnKey(m.side, old->dn)));
          }
          if (!old->address.empty()) {
            auto id = FindIdByAddress(m.side, m.kind, old->address);
            if (id && *id == m.id)
              DIRLEDGER_RETURN_IF_ERROR(
                  state_->Delete(AddressKey(m.side, m.kind, old->address)));
          }
          for (const std::string& a : IndexedAliases(*old))
            DIRLEDGER_RETURN_IF_ERROR(
                state_->Delete(AliasPrefix(m.side, m.kind, a) + m.id));
          if (!old->source.empty())
            DIRLEDGER_RETURN_IF_ERROR(
                state_->Delete(SourceKey(old->source, m.side, m.kind, m.id)));
          return state_->Delete(ObjectKey(m.side, m.kind, m.id));
        } else if constexpr (std::is_same_v<M, PutLink>) {
          const LinkState& l = m.link;
          auto old = GetLinkByLdap(l.kind, l.ldap_id);
          if (old && old->mail_id != l.mail_id)
            DIRLEDGER_RETURN_IF_ERROR(
                links_->Delete(KindIdKey(kLinkByMail, l.kind, old->mail_id)));
          DIRLEDGER_RETURN_IF_ERROR(links_->Put(
              KindIdKey(kLinkByMail, l.kind, l.mail_id), l.ldap_id));
          return links_->Put(KindIdKey(kLinkByLdap, l.kind, l.ldap_id),
                             EncodeLinkState(l));
        } else if constexpr (std::is_same_v<M, EraseLink>) {
          DIRLEDGER_RETURN_IF_ERROR(
              links_->Delete(KindIdKey(kLinkByMail, m.kind, m.mail_id)));
          return links_->Delete(KindIdKey(kLinkByLdap, m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutPending>) {
          const Intent& i = m.pending.intent;
          if (!i.target_id.empty())
            DIRLEDGER_RETURN_IF_ERROR(
                state_->Put(PendingTargetPrefix(i.target, i.kind, i.target_id) +
                                BigEndian64(i.id),
                            ""));
          return state_->Put(PendingKey(i.id), EncodePendingIntent(m.pending));
        } else if constexpr (std::is_same_v<M, ErasePending>) {
          auto old = GetPending(m.intent_id);
          if (!old) return status_;
          const Intent& i = old->intent;
          if (!i.target_id.empty())
            DIRLEDGER_RETURN_IF_ERROR(state_->Delete(
                PendingTargetPrefix(i.target, i.kind, i.target_id) +
                BigEndian64(i.id)));
          return state_->Delete(PendingKey(m.intent_id));
        } else if constexpr (std::is_same_v<M, PutConflict>) {
          return state_->Put(
              KindIdKey(kConflict, m.conflict.kind, m.conflict.ldap_id),
              EncodeConflictState(m.conflict));
        } else if constexpr (std::is_same_v<M, EraseConflict>) {
          return state_->Delete(KindIdKey(kConflict, m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutHold>) {
          return state_->Put(HoldKey(m.hold.hold.hold_id),
                             EncodeHoldState(m.hold));
        } else if constexpr (std::is_same_v<M, PutDrift>) {
          return state_->Put(KindIdKey(kDrift, m.drift.kind, m.drift.ldap_id),
                             EncodeDriftState(m.drift));
        } else if constexpr (std::is_same_v<M, EraseDrift>) {
          return state_->Delete(KindIdKey(kDrift, m.kind, m.ldap_id));
        } else if constexpr (std::is_same_v<M, PutWait>) {
          return state_->Put(WaitPrefix(m.side, m.key) + m.waiter, "");
        } else if constexpr (std::is_same_v<M, EraseWait>) {
          return state_->Delete(WaitPrefix(m.side, m.key) + m.waiter);
        } else if constexpr (std::is_same_v<M, PutFailure>) {
          const FailureState& f = m.failure;
          return state_->Put(FailureKey(f.kind, f.side, f.object),
                             EncodeFailureState(f));
        } else {
          static_assert(std::is_same_v<M, EraseFailure>);
          return state_->Delete(FailureKey(m.kind, m.side, m.object));
        }
      },
      mutation);
}

namespace {

template <typename T>
Status ScanRecords(const KvStore* kv, const std::string& prefix,
                   Status (*decode)(std::string_view, T*),
                   const std::function<bool(const T&)>& fn) {
  Status err;
  Status s =
      kv->Scan(prefix, [&](std::string_view key, std::string_view value) {
        T rec;
        Status d = decode(value, &rec);
        if (!d.ok()) {
          err =
              d.WithContext("projection key " + std::string(key.substr(0, 1)) +
                            "/" + std::string(key.substr(1)));
          return false;
        }
        return fn(rec);
      });
  if (!s.ok()) return s;
  return err;
}

}  // namespace

Status ProjectionStore::ForEachObject(
    Side side, const std::function<bool(const ObjectState&)>& fn) const {
  return ScanRecords<ObjectState>(state_, std::string{kObject, SideByte(side)},
                                  &DecodeObjectState, fn);
}

Status ProjectionStore::ForEachObjectOfSource(
    std::string_view source,
    const std::function<bool(Side, ObjectKind, std::string_view)>& fn) const {
  std::string prefix{kSourceIndex};
  prefix += source;
  prefix += '\0';
  return state_->Scan(prefix, [&](std::string_view key, std::string_view) {
    std::string_view rest = key.substr(prefix.size());
    if (rest.size() < 2) return true;
    const Side side = static_cast<Side>(rest[0] - '0');
    const ObjectKind kind = static_cast<ObjectKind>(rest[1] - '0');
    return fn(side, kind, rest.substr(2));
  });
}

Status ProjectionStore::ForEachLink(
    const std::function<bool(const LinkState&)>& fn) const {
  return ScanRecords<LinkState>(links_, std::string{kLinkByLdap},
                                &DecodeLinkState, fn);
}

Status ProjectionStore::ForEachPending(
    const std::function<bool(const PendingIntent&)>& fn) const {
  return ScanRecords<PendingIntent>(state_, std::string{kPending},
                                    &DecodePendingIntent, fn);
}

Status ProjectionStore::ForEachPendingId(
    const std::function<bool(std::uint64_t)>& fn) const {
  return state_->ScanKeys(std::string{kPending}, [&](std::string_view key) {
    if (key.size() != 9) return true;
    return fn(GetBigEndian64(key.substr(1)));
  });
}

Status ProjectionStore::ForEachConflict(
    const std::function<bool(const ConflictState&)>& fn) const {
  return ScanRecords<ConflictState>(state_, std::string{kConflict},
                                    &DecodeConflictState, fn);
}

Status ProjectionStore::ForEachHold(
    const std::function<bool(const HoldState&)>& fn) const {
  return ScanRecords<HoldState>(state_, std::string{kHold}, &DecodeHoldState,
                                fn);
}

Status ProjectionStore::ForEachDrift(
    const std::function<bool(const DriftState&)>& fn) const {
  return ScanRecords<DriftState>(state_, std::string{kDrift}, &DecodeDriftState,
                                 fn);
}

Status ProjectionStore::ForEachFailure(
    const std::function<bool(const FailureState&)>& fn) const {
  return ScanRecords<FailureState>(state_, std::string{kFailure},
                                   &DecodeFailureState, fn);
}

}  // namespace dirledger

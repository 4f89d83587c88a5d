// InMemoryProjection's tables as bytes, for projection checkpoints: every
// record table (each record in its stored encoding, codecs/projection.h),
// then every index table as its entries. A record table's keys are derived
// from its records on reading, exactly as Apply derives them.
#include <algorithm>
#include <utility>

#include "replay/checkpoint_bytes.h"
#include "replay/in_memory_projection.h"
#include "replay/in_memory_projection_keys.h"

namespace dirledger {
namespace {

using checkpoint_bytes::PutString;
using checkpoint_bytes::PutU64;
using checkpoint_bytes::Reader;

using projection_keys::FailureTableKey;
using projection_keys::KindKey;
using projection_keys::ObjectKey;
using projection_keys::RowEncoder;
using projection_keys::SortedRows;

// The tables' bytes, handed on in pieces of about kPiece bytes: a
// checkpoint is compressed, or compared, as the tables are written, never
// holding them whole.
class Pieces {
 public:
  explicit Pieces(const InMemoryProjection::TablesFn& fn) : fn_(fn) {}
  ~Pieces() { Flush(); }
  std::string* out() { return &buffer_; }
  // After each whole row.
  void Row() {
    if (buffer_.size() >= kPiece) Flush();
  }

 private:
  static constexpr std::size_t kPiece = std::size_t{1} << 20;
  void Flush() {
    if (buffer_.empty()) return;
    fn_(buffer_);
    buffer_.clear();
  }
  const InMemoryProjection::TablesFn& fn_;
  std::string buffer_;
};

// `encode` takes a row (key and record).
template <typename Map, typename Encode>
void PutRecords(Pieces* out, const Map& m, Encode encode) {
  const auto rows = SortedRows(m);
  PutU64(out->out(), rows.size());
  for (const auto* row : rows) {
    PutString(out->out(), encode(*row));
    out->Row();
  }
}

template <typename Map>
void PutPairs(Pieces* out, const Map& m) {
  const auto rows = SortedRows(m);
  PutU64(out->out(), rows.size());
  for (const auto* row : rows) {
    PutString(out->out(), row->first);
    PutString(out->out(), row->second);
    out->Row();
  }
}

void PutKeys(Pieces* out, const std::set<std::string, std::less<>>& s) {
  PutU64(out->out(), s.size());
  for (const std::string& k : s) {
    PutString(out->out(), k);
    out->Row();
  }
}

// Reads a table of records: each decoded with `decode`, keyed by `key_of`,
// inserted with `insert` (false: the key repeats).
template <typename T, typename Decode, typename KeyOf, typename Insert>
Status ReadRecords(Reader* in, const char* what, Decode decode, KeyOf key_of,
                   Insert insert) {
  std::uint64_t n = 0;
  DIRLEDGER_RETURN_IF_ERROR(in->Count(8, &n));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view bytes;
    DIRLEDGER_RETURN_IF_ERROR(in->String(&bytes));
    T record;
    Status s = decode(bytes, &record);
    if (!s.ok())
      return Status::Corruption(std::string(what) + " " + std::to_string(i) +
                                ": " + s.message());
    auto key = key_of(record);
    if (!insert(std::move(key), std::move(record)))
      return Status::Corruption(std::string(what) + " " + std::to_string(i) +
                                " repeats the key of one before it");
  }
  return Status::Ok();
}

template <typename Map>
Status ReadPairs(Reader* in, const char* what, Map* m) {
  std::uint64_t n = 0;
  DIRLEDGER_RETURN_IF_ERROR(in->Count(16, &n));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view k, v;
    DIRLEDGER_RETURN_IF_ERROR(in->String(&k));
    std::string key(k);  // the next read may move what k points into
    DIRLEDGER_RETURN_IF_ERROR(in->String(&v));
    if (!m->Set(key, v))
      return Status::Corruption(std::string(what) + " entry " +
                                std::to_string(i) + " repeats a key");
  }
  return Status::Ok();
}

Status ReadKeys(Reader* in, const char* what,
                std::set<std::string, std::less<>>* s) {
  std::uint64_t n = 0;
  DIRLEDGER_RETURN_IF_ERROR(in->Count(8, &n));
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string_view k;
    DIRLEDGER_RETURN_IF_ERROR(in->String(&k));
    if (!s->emplace(k).second)
      return Status::Corruption(std::string(what) + " entry " +
                                std::to_string(i) + " repeats a key");
  }
  return Status::Ok();
}

}  // namespace

void InMemoryProjection::AppendTables(std::string* out) const {
  WriteTables([out](std::string_view piece) { out->append(piece); });
}

void InMemoryProjection::WriteTables(const TablesFn& fn) const {
  Pieces out(fn);
  ObjectState object;
  PutRecords(&out, objects_, [&](const ObjectRow& row) {
    return EncodeObjectState(Read(row, &object));
  });
  LinkState link;
  PutRecords(&out, links_, [&](const LinkRow& row) {
    return EncodeLinkState(Read(row, &link));
  });
  PutU64(out.out(), pending_.size());
  for (const auto& [id, p] : pending_) {
    PutString(out.out(), EncodePendingIntent(p));
    out.Row();
  }
  PutRecords(&out, conflicts_, RowEncoder(EncodeConflictState));
  PutRecords(&out, holds_, RowEncoder(EncodeHoldState));
  PutRecords(&out, drifts_, RowEncoder(EncodeDriftState));
  PutU64(out.out(), failures_.size());
  for (const auto& [key, f] : failures_) {
    PutString(out.out(), EncodeFailureState(f));
    out.Row();
  }
  PutPairs(&out, dn_index_);
  PutPairs(&out, address_index_);
  PutKeys(&out, alias_index_);
  PutPairs(&out, links_by_mail_);
  PutU64(out.out(), pending_index_.size());
  for (const auto& [target, id] : pending_index_) {
    PutString(out.out(), target);
    PutU64(out.out(), id);
    out.Row();
  }
  PutKeys(&out, waits_);
}

Status InMemoryProjection::ReadTables(std::string_view bytes) {
  Reader in(bytes);
  return ReadTablesFrom(&in);
}

Status InMemoryProjection::ReadTables(std::uint64_t size,
                                      const TablesFill& fill) {
  Reader in(size, fill);
  return ReadTablesFrom(&in);
}

Status InMemoryProjection::ReadTablesFrom(Reader* reader) {
  InMemoryProjection p;
  Reader& in = *reader;
  Status s = [&]() -> Status {
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<ObjectState>(
        &in, "object", DecodeObjectState,
        [](const ObjectState& o) { return ObjectKey(o.side, o.kind, o.id); },
        [&](std::string k, ObjectState o) {
          auto [row, added] = p.objects_.try_emplace(k);
          if (added) p.StorePacked(row, o);
          return added;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<LinkState>(
        &in, "link", DecodeLinkState,
        [](const LinkState& l) { return KindKey(l.kind, l.ldap_id); },
        [&](std::string k, LinkState l) {
          auto [row, added] = p.links_.try_emplace(k);
          if (added) p.StorePacked(row, l);
          return added;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<PendingIntent>(
        &in, "pending intent", DecodePendingIntent,
        [](const PendingIntent& x) { return x.intent.id; },
        [&](std::uint64_t id, PendingIntent x) {
          return p.pending_.emplace(id, std::move(x)).second;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<ConflictState>(
        &in, "conflict", DecodeConflictState,
        [](const ConflictState& c) { return KindKey(c.kind, c.ldap_id); },
        [&](std::string k, ConflictState c) {
          return p.conflicts_.emplace(std::move(k), std::move(c)).second;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<HoldState>(
        &in, "hold", DecodeHoldState,
        [](const HoldState& h) { return h.hold.hold_id; },
        [&](std::string k, HoldState h) {
          return p.holds_.emplace(std::move(k), std::move(h)).second;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<DriftState>(
        &in, "drift", DecodeDriftState,
        [](const DriftState& d) { return KindKey(d.kind, d.ldap_id); },
        [&](std::string k, DriftState d) {
          return p.drifts_.emplace(std::move(k), std::move(d)).second;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadRecords<FailureState>(
        &in, "failure", DecodeFailureState,
        [](const FailureState& f) {
          return FailureTableKey(f.kind, f.side, f.object);
        },
        [&](std::string k, FailureState f) {
          return p.failures_.emplace(std::move(k), std::move(f)).second;
        }));
    DIRLEDGER_RETURN_IF_ERROR(ReadPairs(&in, "DN index", &p.dn_index_));
    DIRLEDGER_RETURN_IF_ERROR(
        ReadPairs(&in, "address index", &p.address_index_));
    DIRLEDGER_RETURN_IF_ERROR(ReadKeys(&in, "alias index", &p.alias_index_));
    DIRLEDGER_RETURN_IF_ERROR(
        ReadPairs(&in, "link-by-mail index", &p.links_by_mail_));
    std::uint64_t n = 0;
    DIRLEDGER_RETURN_IF_ERROR(in.Count(16, &n));
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string_view target;
      std::uint64_t id = 0;
      DIRLEDGER_RETURN_IF_ERROR(in.String(&target));
      std::string key(target);  // the next read may move what it points into
      DIRLEDGER_RETURN_IF_ERROR(in.U64(&id));
      if (!p.pending_index_.emplace(std::move(key), id).second)
        return Status::Corruption("pending-by-target entry " +
                                  std::to_string(i) + " repeats a key");
    }
    DIRLEDGER_RETURN_IF_ERROR(ReadKeys(&in, "wait", &p.waits_));
    if (in.left() != 0)
      return Status::Corruption(std::to_string(in.left()) +
                                " bytes follow the last table");
    return Status::Ok();
  }();
  if (!s.ok()) {
    *this = InMemoryProjection();
    return s;
  }
  *this = std::move(p);
  return Status::Ok();
}

}  // namespace dirledger

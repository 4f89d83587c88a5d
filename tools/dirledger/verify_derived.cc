#include "tools/dirledger/verify_derived.h"

#include <algorithm>
#include <utility>

#include "codecs/attributes.h"
#include "storage/object_indexer.h"

namespace dirledger::cli {
namespace {

// Collects differences: counts them all, describes the first `limit`.
struct Differences {
  std::size_t limit;
  std::vector<std::string>* out;
  std::uint64_t* count;
  void Add(std::string text) {
    if (out->size() < limit) out->push_back(std::move(text));
    ++*count;
  }
};

// Compares a family of the replayed projection with the stored one, both
// in key order.
Status CompareFamily(const EventLog& log, EventLog::DerivedFamily family,
                     const InMemoryProjection& replayed, bool links,
                     Differences* diffs) {
  const char* name = links ? "links" : "state";
  auto describe = [&](std::string_view key) {
    return std::string(name) + " key " + DescribeProjectionKey(key, links);
  };
  std::vector<std::pair<std::string, std::string>> want;
  replayed.ForEachStored(links, [&](std::string_view k, std::string_view v) {
    want.emplace_back(k, v);
  });
  auto it = want.begin();
  Status s = log.ScanDerivedFamily(
      family, [&](std::string_view key, std::string_view value) {
        for (; it != want.end() && it->first < key; ++it)
          diffs->Add(describe(it->first) +
                     " is missing from the stored projection");
        if (it == want.end() || it->first != key) {
          diffs->Add(describe(key) + " is stored but not derived from the log");
          return true;
        }
        if (it->second != value)
          diffs->Add(describe(key) + " differs from what the log derives");
        ++it;
        return true;
      });
  DIRLEDGER_RETURN_IF_ERROR(s);
  for (; it != want.end(); ++it)
    diffs->Add(describe(it->first) + " is missing from the stored projection");
  return Status::Ok();
}

}  // namespace

void DerivedRecordsCheck::Note(const InMemoryProjection& before,
                               const Event& event, const Decision* decision) {
  std::vector<std::string_view> ids;
  ObjectIndexIds(event, decision, &ids);
  std::vector<std::string> keys;
  AppendObjectIndexKeys(event.seq, &ids, &keys);
  // Intake leaves out the DN of an observed object that already had it
  // (engine/intake.cc).
  std::string unchanged_dn_key;
  if (const auto* c = std::get_if<ObservedChange>(&event.body);
      c && !c->dn.empty()) {
    const ObjectState* old = before.FindObject(c->side, c->kind, c->id);
    if (old && EqualsIgnoreCase(old->dn, c->dn))
      unchanged_dn_key = ObjectIndexKey(c->dn, event.seq);
  }
  for (std::string& k : keys) {
    const bool required = unchanged_dn_key.empty() || k != unchanged_dn_key;
    index_keys_.push_back({std::move(k), required});
  }
}

Status DerivedRecordsCheck::Compare(const EventLog& log,
                                    const InMemoryProjection& replayed,
                                    std::size_t limit,
                                    std::vector<std::string>* out,
                                    std::uint64_t* count) const {
  Differences diffs{limit, out, count};
  DIRLEDGER_RETURN_IF_ERROR(CompareFamily(log, EventLog::DerivedFamily::kState,
                                          replayed, /*links=*/false, &diffs));
  DIRLEDGER_RETURN_IF_ERROR(CompareFamily(log, EventLog::DerivedFamily::kLinks,
                                          replayed, /*links=*/true, &diffs));

  // by_object: the indexer writes it after the events, up to its watermark;
  // keys of later events may be missing yet, never wrong.
  std::vector<const IndexKey*> want;
  want.reserve(index_keys_.size());
  for (const IndexKey& k : index_keys_) want.push_back(&k);
  std::sort(want.begin(), want.end(), [](const IndexKey* a, const IndexKey* b) {
    return a->key < b->key;
  });
  const std::uint64_t through = log.index_through();
  auto missing = [&](const IndexKey& k) {
    const std::uint64_t seq =
        GetBigEndian64(std::string_view(k.key).substr(k.key.size() - 8));
    if (k.required && seq <= through)
      diffs.Add("by_object key " + DescribeObjectIndexKey(k.key) +
                " is missing from the stored object index");
  };
  std::size_t i = 0;
  Status s = log.ScanDerivedFamily(
      EventLog::DerivedFamily::kObjectIndex,
      [&](std::string_view key, std::string_view value) {
        for (; i < want.size() && want[i]->key < key; ++i) missing(*want[i]);
        if (i == want.size() || want[i]->key != key) {
          diffs.Add("by_object key " + DescribeObjectIndexKey(key) +
                    " is stored but not derived from the log");
          return true;
        }
        if (!value.empty())
          diffs.Add("by_object key " + DescribeObjectIndexKey(key) +
                    " holds a value; index keys hold none");
        ++i;
        return true;
      });
  DIRLEDGER_RETURN_IF_ERROR(s);
  for (; i < want.size(); ++i) missing(*want[i]);
  return Status::Ok();
}

}  // namespace dirledger::cli

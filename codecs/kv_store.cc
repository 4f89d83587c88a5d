#include "codecs/kv_store.h"

namespace dirledger {

Status MemKvStore::Get(std::string_view key, std::string* value) const {
  auto it = data_.find(key);
  if (it == data_.end()) return Status::NotFound("no key");
  *value = it->second;
  return Status::Ok();
}

Status MemKvStore::Put(std::string_view key, std::string_view value) {
  auto it = data_.find(key);
  if (it == data_.end())
    data_.emplace(std::string(key), std::string(value));
  else
    it->second.assign(value);
  return Status::Ok();
}

Status MemKvStore::Delete(std::string_view key) {
  auto it = data_.find(key);
  if (it != data_.end()) data_.erase(it);
  return Status::Ok();
}

Status MemKvStore::Scan(std::string_view prefix, const ScanFn& fn) const {
  for (auto it = data_.lower_bound(prefix); it != data_.end(); ++it) {
    if (std::string_view(it->first).substr(0, prefix.size()) != prefix) break;
    if (!fn(it->first, it->second)) break;
  }
  return Status::Ok();
}

void CollectPrefix(const std::map<std::string, std::string, std::less<>>& m,
                   std::string_view prefix, KvRows* out) {
  for (auto it = m.lower_bound(prefix);
       it != m.end() && std::string_view(it->first).starts_with(prefix); ++it)
    out->emplace_back(it->first, it->second);
}

KvRows OverlayWrites(KvRows committed, const KvWrites& writes,
                     std::string_view prefix) {
  KvRows rows;
  rows.reserve(committed.size());
  auto c = committed.begin();
  auto w = writes.lower_bound(prefix);
  auto in_prefix = [&] {
    return w != writes.end() && std::string_view(w->first).starts_with(prefix);
  };
  while (c != committed.end() || in_prefix()) {
    const bool take_write =
        in_prefix() && (c == committed.end() || w->first <= c->first);
    if (!take_write) {
      rows.push_back(std::move(*c++));
      continue;
    }
    if (c != committed.end() && c->first == w->first) ++c;  // overwritten
    if (w->second) rows.emplace_back(w->first, *w->second);
    ++w;
  }
  return rows;
}

void PutBigEndian64(std::string* dst, std::uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

std::uint64_t GetBigEndian64(std::string_view src) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(src[static_cast<size_t>(i)]);
  return v;
}

std::string BigEndian64(std::uint64_t v) {
  std::string s;
  PutBigEndian64(&s, v);
  return s;
}

}  // namespace dirledger

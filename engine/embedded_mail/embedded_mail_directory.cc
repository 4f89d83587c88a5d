#include "engine/embedded_mail/embedded_mail_directory.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <map>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/projection.h"
#include "storage/io_hints.h"
#include "storage/rocks_database.h"
#include "storage/rocksdb_logger.h"

namespace dirledger {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCfNames[] = {"default", "objects", "domains", "secrets",
                                    "changes", "applied", "aliases"};
constexpr const char* kFormatKey = "format";
// Present once the "aliases" family holds every object's aliases (a
// directory made before it gets them at its first writable open).
constexpr const char* kAliasIndexKey = "alias_index";
constexpr const char* kFormatVersion = "1";
constexpr int kPbkdf2Iterations = 100000;

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg =
      "mail directory: " + std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  return Status::IOError(msg + IoHint(msg));
}

rocksdb::Slice S(std::string_view v) { return {v.data(), v.size()}; }

std::string Hex(const unsigned char* p, std::size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 15];
  }
  return out;
}

bool Unhex(std::string_view s, std::string* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int v = 0;
    auto r = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 2) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

std::string Pbkdf2(std::string_view password, std::string_view salt,
                   int iterations) {
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(),
                    sizeof(out), out);
  return std::string(reinterpret_cast<char*>(out), sizeof(out));
}

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::uint64_t> ParseCookie(std::string_view cookie) {
  if (cookie.empty()) return std::uint64_t{0};
  std::uint64_t v = 0;
  auto r = std::from_chars(cookie.data(), cookie.data() + cookie.size(), v);
  if (r.ec != std::errc() || r.ptr != cookie.data() + cookie.size())
    return Status::InvalidArgument(
        "mail directory: cursor is not a change sequence (expected decimal "
        "digits, got " +
        std::to_string(cookie.size()) + " bytes)");
  return v;
}

MailObject ToMailObject(const ObjectState& s) {
  MailObject o;
  o.kind = s.kind;
  o.address = s.id;
  o.attrs = s.attrs;
  return o;
}

}  // namespace

std::string HashPassword(std::string_view password) {
  unsigned char salt[16];
  if (RAND_bytes(salt, sizeof(salt)) != 1) {
    // The system RNG failing is fatal for password storage; never fall back
    // to an unsalted hash.
    std::abort();
  }
  std::string s(reinterpret_cast<char*>(salt), sizeof(salt));
  const std::string h = Pbkdf2(password, s, kPbkdf2Iterations);
  return "pbkdf2-sha256$" + std::to_string(kPbkdf2Iterations) + "$" +
         Hex(salt, sizeof(salt)) + "$" +
         Hex(reinterpret_cast<const unsigned char*>(h.data()), h.size());
}

bool VerifyPassword(std::string_view stored, std::string_view password) {
  // pbkdf2-sha256$ITER$SALT$HASH
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto p = stored.find('$', start);
    parts.push_back(stored.substr(start, p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256") return false;
  int iterations = 0;
  auto r = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(),
                           iterations);
  if (r.ec != std::errc() || iterations <= 0 || iterations > 10000000)
    return false;
  std::string salt, want;
  if (!Unhex(parts[2], &salt) || !Unhex(parts[3], &want) || want.size() != 32)
    return false;
  const std::string got = Pbkdf2(password, salt, iterations);
  return CRYPTO_memcmp(got.data(), want.data(), 32) == 0;
}

EmbeddedMailDirectory::~EmbeddedMailDirectory() { database_.reset(); }

std::string EmbeddedMailDirectory::DirFor(const Config& config) {
  return (fs::path(config.Resolve(config.data_dir)) / "mail").string();
}

Status EmbeddedMailDirectory::Sync() {
  if (!options_.sync) return Status::Ok();
  return FromRocks(db_->SyncWAL(), "syncing " + dir_);
}

Status EmbeddedMailDirectory::Checkpoint(const std::string& backup_dir) const {
  return database_->Checkpoint(backup_dir, "mail directory: checkpoint of " +
                                               dir_ + " into " + backup_dir);
}

Status EmbeddedMailDirectory::Restore(const std::string& backup_dir,
                                      const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(fs::path(backup_dir) / "CURRENT", ec))
    return Status::InvalidArgument(backup_dir +
                                   " is not a mail directory backup");
  return RocksDatabase::RestoreStaged(backup_dir, dir, "mail directory");
}

Result<std::unique_ptr<EmbeddedMailDirectory>> EmbeddedMailDirectory::Open(
    const std::string& dir, std::shared_ptr<const RuleSet> rules,
    const EmbeddedMailOptions& options) {
  std::unique_ptr<EmbeddedMailDirectory> d(new EmbeddedMailDirectory());
  d->dir_ = dir;
  d->options_ = options;
  d->rules_ = std::move(rules);
  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.info_log_level = rocksdb::InfoLogLevel::ERROR_LEVEL;
  db_opts.info_log = StderrRocksLogger("mail directory");
  // One memtable budget for all column families (each would otherwise keep
  // up to two 64 MiB memtables), and a WAL bound: the rarely written
  // families (domains, secrets) would otherwise pin every WAL file.
  db_opts.db_write_buffer_size = 32u << 20;
  db_opts.max_total_wal_size = 64u << 20;
  rocksdb::ColumnFamilyOptions cf_opts;
  // Compressed as the log is (storage/rocks_event_log.cc): LZ4, zstd at rest.
  cf_opts.compression = rocksdb::kLZ4Compression;
  cf_opts.bottommost_compression = rocksdb::kZSTD;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : kCfNames) cfs.emplace_back(name, cf_opts);
  DatabaseSpec spec;
  spec.dir = dir;
  spec.what = "the mail directory";
  spec.settle_compactions_at_close = options.settle_compactions_at_close;
  spec.mode = options.read_only ? DatabaseSpec::Mode::kReadOnly
                                : DatabaseSpec::Mode::kReadWrite;
  spec.create_if_missing = true;
  // A new directory has its format version from the start.
  spec.init = [](rocksdb::DB* db,
                 const std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    rocksdb::WriteOptions synced;
    synced.sync = true;
    rocksdb::WriteBatch batch;
    batch.Put(handles[0], kFormatKey, kFormatVersion);
    batch.Put(handles[0], kAliasIndexKey, "1");
    return FromRocks(db->Write(synced, &batch), "writing the format version");
  };
  spec.options = db_opts;
  spec.families = std::move(cfs);
  spec.optional_families = {"aliases"};  // added since the first directories
  spec.absent = "no mail directory in " + dir +
                " (run `dirledger run` or `dirledger mail add` first)";
  spec.in_use = "mail directory " + dir +
                " is in use by another dirledger process (its RocksDB LOCK "
                "is held); stop that process first";
  auto database = RocksDatabase::Open(std::move(spec));
  if (!database.ok()) return database.status();
  d->database_ = std::move(database).value();
  d->db_ = d->database_->db();
  d->format_cf_ = d->database_->family("default");
  d->objects_cf_ = d->database_->family("objects");
  d->domains_cf_ = d->database_->family("domains");
  d->secrets_cf_ = d->database_->family("secrets");
  d->changes_cf_ = d->database_->family("changes");
  d->applied_cf_ = d->database_->family("applied");
  d->aliases_cf_ = d->database_->family("aliases");
  DIRLEDGER_RETURN_IF_ERROR(d->Load());
  if (d->rules_ && !options.read_only) {
    for (const DomainConfig& dc : d->rules_->config().domains) {
      DIRLEDGER_RETURN_IF_ERROR(d->AddDomain(dc.name));
    }
  }
  return d;
}

Status EmbeddedMailDirectory::Load() {
  std::string v;
  auto s = db_->Get(rocksdb::ReadOptions(), format_cf_, kFormatKey, &v);
  if (s.IsNotFound() && options_.read_only) {
    return Status::Corruption("mail directory " + dir_ +
                              " has no format version");
  } else if (s.IsNotFound()) {
    DIRLEDGER_RETURN_IF_ERROR(
        FromRocks(db_->Put(rocksdb::WriteOptions(), format_cf_, kFormatKey,
                           kFormatVersion),
                  "writing the format version"));
  } else if (!s.ok()) {
    return FromRocks(s, "reading the format version");
  } else if (v != kFormatVersion) {
    return Status::Corruption(
        "mail directory " + dir_ + " has format version " + v +
        ", this dirledger reads version " + kFormatVersion);
  }
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), changes_cf_));
  it->SeekToLast();
  if (it->Valid()) {
    if (it->key().size() != 8)
      return Status::Corruption("mail directory: change key of " +
                                std::to_string(it->key().size()) +
                                " bytes, expected 8");
    last_change_ = GetBigEndian64({it->key().data(), it->key().size()});
  }
  DIRLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "reading the change feed"));
  if (options_.read_only) return Status::Ok();  // it writes nothing
  s = db_->Get(rocksdb::ReadOptions(), format_cf_, kAliasIndexKey, &v);
  if (s.ok()) return Status::Ok();
  if (!s.IsNotFound()) return FromRocks(s, "reading the alias index marker");
  // Made before the alias index: every object's aliases, with the marker,
  // in one batch (the first holder of an alias keeps it, as a write would).
  rocksdb::WriteBatch batch;
  std::map<std::string, std::string, std::less<>> owners;
  DIRLEDGER_RETURN_IF_ERROR(ForEach("", [&](const MailObject& o) {
    for (const std::string& a : AttrValues(o.attrs, field::kAliases))
      owners.emplace(a, o.address);
    return true;
  }));
  for (const auto& [alias, owner] : owners)
    batch.Put(aliases_cf_, S(alias), S(owner));
  batch.Put(format_cf_, kAliasIndexKey, "1");
  rocksdb::WriteOptions synced;
  synced.sync = true;
  return FromRocks(db_->Write(synced, &batch), "writing the alias index");
}

Result<std::optional<std::string>> EmbeddedMailDirectory::AliasOwnerLocked(
    std::string_view alias) const {
  std::string owner;
  auto s = db_->Get(rocksdb::ReadOptions(), aliases_cf_, S(alias), &owner);
  if (s.IsNotFound()) return std::optional<std::string>();
  DIRLEDGER_RETURN_IF_ERROR(
      FromRocks(s, "reading the owner of alias " + std::string(alias)));
  return std::optional<std::string>(std::move(owner));
}

Status EmbeddedMailDirectory::CheckAddressesLocked(
    const MailObject& o, const std::optional<MailObject>& before,
    std::string_view leaving) const {
  const std::string_view what =
      o.kind == ObjectKind::kGroup ? "group " : "account ";
  std::vector<std::string> held;
  if (before) held = AttrValues(before->attrs, field::kAliases);
  if (!before || !leaving.empty()) {
    auto owner = AliasOwnerLocked(o.address);
    if (!owner.ok()) return owner.status();
    if (*owner && **owner != o.address && **owner != leaving)
      return Status::Conflict(std::string(what) + o.address +
                              " refused: the address is an alias of " +
                              **owner);
  }
  // Every alias refused, in one message.
  std::string refused;
  auto refuse = [&](const std::string& alias, const std::string& why) {
    if (!refused.empty()) refused += "; ";
    refused += "alias " + alias + " of " + o.address + " refused: " + why;
  };
  for (const std::string& a : AttrValues(o.attrs, field::kAliases)) {
    if (a == o.address || a == leaving ||
        std::find(held.begin(), held.end(), a) != held.end())
      continue;
    const std::string_view domain = std::string_view(a).substr(a.find('@') + 1);
    if (!HasDomain(domain)) {
      refuse(a,
             "domain " + std::string(domain) + " is not in the mail directory");
      continue;
    }
    auto owner = AliasOwnerLocked(a);
    if (!owner.ok()) return owner.status();
    if (*owner && **owner != o.address && **owner != leaving) {
      refuse(a, "it is an alias of " + **owner);
      continue;
    }
    auto holder = Get(a);
    if (!holder.ok()) return holder.status();
    if (*holder)
      refuse(a, "it is the address of " +
                    std::string((*holder)->kind == ObjectKind::kGroup
                                    ? "group "
                                    : "account ") +
                    a);
  }
  return refused.empty() ? Status::Ok() : Status::Conflict(refused);
}

Status EmbeddedMailDirectory::IndexAliasesLocked(
    const std::optional<MailObject>& before, const MailObject* after,
    rocksdb::WriteBatch* batch) const {
  // The aliases `before` held are released (deletes first: a put of the
  // same alias later in the batch wins); `after` takes each of its aliases
  // no other object holds.
  if (before)
    for (const std::string& a : AttrValues(before->attrs, field::kAliases)) {
      auto owner = AliasOwnerLocked(a);
      if (!owner.ok()) return owner.status();
      if (*owner && **owner == before->address)
        batch->Delete(aliases_cf_, S(a));
    }
  if (!after) return Status::Ok();
  for (const std::string& a : AttrValues(after->attrs, field::kAliases)) {
    auto owner = AliasOwnerLocked(a);
    if (!owner.ok()) return owner.status();
    if (!*owner || (before && **owner == before->address))
      batch->Put(aliases_cf_, S(a), S(after->address));
  }
  return Status::Ok();
}

void EmbeddedMailDirectory::SetRules(std::shared_ptr<const RuleSet> rules) {
  std::lock_guard<std::mutex> lock(mu_);
  rules_ = std::move(rules);
}

std::string EmbeddedMailDirectory::ConnectorFor(std::string_view domain) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!rules_) return "";
  const DomainConfig* dc = rules_->config().FindDomain(domain);
  return dc ? dc->connector : "";
}

std::size_t EmbeddedMailDirectory::BatchSize() const {
  if (options_.batch_size) return options_.batch_size;
  std::lock_guard<std::mutex> lock(mu_);
  if (rules_ && rules_->config().batch_size) return rules_->config().batch_size;
  return 1000;
}

Status EmbeddedMailDirectory::AddDomain(std::string_view domain) {
  auto d = NormalizeDomain(domain);
  if (!d.ok()) return d.status();
  std::lock_guard<std::mutex> lock(mu_);
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->Put(wo, domains_cf_, S(*d), ""), "adding domain " + *d);
}

bool EmbeddedMailDirectory::HasDomain(std::string_view domain) const {
  std::string v;
  return db_
      ->Get(rocksdb::ReadOptions(), domains_cf_, S(AsciiLower(domain)), &v)
      .ok();
}

Result<std::vector<std::string>> EmbeddedMailDirectory::Domains() const {
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), domains_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    out.push_back(it->key().ToString());
  DIRLEDGER_RETURN_IF_ERROR(FromRocks(it->status(), "listing domains"));
  return out;
}

Result<std::optional<MailObject>> EmbeddedMailDirectory::Get(
    std::string_view address) const {
  std::string v;
  auto s =
      db_->Get(rocksdb::ReadOptions(), objects_cf_, S(AsciiLower(address)), &v);
  if (s.IsNotFound()) return std::optional<MailObject>();
  DIRLEDGER_RETURN_IF_ERROR(FromRocks(s, "reading " + std::string(address)));
  ObjectState st;
  Status d = DecodeObjectState(v, &st);
  if (!d.ok())
    return d.WithContext("mail directory: object " + std::string(address));
  return std::optional<MailObject>(ToMailObject(st));
}

Status EmbeddedMailDirectory::ForEach(
    std::string_view domain,
    const std::function<bool(const MailObject&)>& fn) const {
  const std::string want = AsciiLower(domain);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), objects_cf_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ObjectState st;
    Status d = DecodeObjectState({it->value().data(), it->value().size()}, &st);
    if (!d.ok())
      return d.WithContext("mail directory: object " + it->key().ToString());
    if (!want.empty() && st.domain != want) continue;
    if (!fn(ToMailObject(st))) break;
  }
  return FromRocks(it->status(), "listing objects");
}

bool EmbeddedMailDirectory::HasPassword(std::string_view address) const {
  std::string v;
  return db_
      ->Get(rocksdb::ReadOptions(), secrets_cf_, S(AsciiLower(address)), &v)
      .ok();
}

bool EmbeddedMailDirectory::CheckPassword(std::string_view address,
                                          std::string_view password) const {
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), secrets_cf_, S(AsciiLower(address)), &v)
           .ok())
    return false;
  return VerifyPassword(v, password);
}

std::uint64_t EmbeddedMailDirectory::last_change() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_change_;
}

Result<std::uint64_t> EmbeddedMailDirectory::Commit(const MailWrite& write) {
  std::uint64_t seq;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto r = CommitLocked(write, 0);
    if (!r.ok()) return r;
    seq = *r;
  }
  changed_.notify_all();
  return seq;
}

Result<std::uint64_t> EmbeddedMailDirectory::Update(std::string_view address,
                                                    const UpdateFn& fn) {
  std::uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto current = Get(address);
    if (!current.ok()) return current.status();
    auto write = fn(*current);
    if (!write.ok()) return write.status();
    if (!*write) return std::uint64_t{0};
    auto r = CommitLocked(**write, 0);
    if (!r.ok()) return r;
    seq = *r;
  }
  changed_.notify_all();
  return seq;
}

Result<std::uint64_t> EmbeddedMailDirectory::CommitLocked(
    const MailWrite& write, std::uint64_t applied_intent) {
  if (!write.renamed_from.empty())
    return CommitRenameLocked(write, applied_intent);
  const MailObject& o = write.object;
  auto before = Get(o.address);
  if (!before.ok()) return before.status();
  if (write.op != ChangeOp::kDelete)
    DIRLEDGER_RETURN_IF_ERROR(CheckAddressesLocked(o, *before));
  const std::uint64_t seq = last_change_ + 1;
  const std::string domain(o.domain());
  rocksdb::WriteBatch batch;

  ObservedChange change;
  change.side = Side::kMail;
  change.source = id_;
  change.domain = domain;
  change.kind = o.kind;
  change.id = o.address;
  change.dn = o.address;
  change.op = write.op;
  change.origin_intent = write.origin_intent;
  if (write.op == ChangeOp::kDelete) {
    batch.Delete(objects_cf_, S(o.address));
    batch.Delete(secrets_cf_, S(o.address));
  } else {
    ObjectState st;
    st.side = Side::kMail;
    st.kind = o.kind;
    st.id = o.address;
    st.dn = o.address;
    st.domain = domain;
    st.address = o.address;
    st.attrs = o.attrs;
    st.version = seq;
    st.source = id_;
    batch.Put(objects_cf_, S(o.address), EncodeObjectState(st));
    if (write.password_hash)
      batch.Put(secrets_cf_, S(o.address), S(*write.password_hash));
    change.full_image = true;
    change.attrs = o.attrs;
  }
  Event ev;
  ev.seq = seq;
  ev.time_us = NowMicros();
  ev.body = std::move(change);
  batch.Put(changes_cf_, BigEndian64(seq), EncodeEvent(ev));
  if (applied_intent)
    batch.Put(applied_cf_, BigEndian64(applied_intent), BigEndian64(seq));
  DIRLEDGER_RETURN_IF_ERROR(IndexAliasesLocked(
      *before, write.op == ChangeOp::kDelete ? nullptr : &o, &batch));
  // A write made for an intent is synced with the others of its batch by
  // Sync(), before the outcomes are logged; an admin's edit is synced now.
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync && applied_intent == 0;
  DIRLEDGER_RETURN_IF_ERROR(
      FromRocks(db_->Write(wo, &batch), "writing " + o.address));
  last_change_ = seq;
  return seq;
}

Result<std::uint64_t> EmbeddedMailDirectory::CommitRenameLocked(
    const MailWrite& write, std::uint64_t applied_intent) {
  const MailObject& o = write.object;
  const std::string& from = write.renamed_from;
  auto before = Get(from);
  if (!before.ok()) return before.status();
  if (!*before)
    return Status::NotFound("renaming " + from + " to " + o.address + ": " +
                            from + " does not exist");
  auto there = Get(o.address);
  if (!there.ok()) return there.status();
  if (*there)
    return Status::Conflict(
        "renaming " + from + " to " + o.address + " refused: " + o.address +
        " is the address of another " + std::string(KindName((*there)->kind)) +
        ", " + std::string(KindName((*there)->kind)) + " " + o.address);
  if (!HasDomain(o.domain()))
    return Status::NotFound("renaming " + from + " to " + o.address +
                            ": domain " + std::string(o.domain()) +
                            " is not in the mail directory");
  DIRLEDGER_RETURN_IF_ERROR(
      CheckAddressesLocked(o, *before, from)
          .WithContext("renaming " + from + " to " + o.address));

  rocksdb::WriteBatch batch;
  std::uint64_t seq = last_change_;
  const std::int64_t now = NowMicros();
  auto record = [&](ObservedChange change) {
    Event ev;
    ev.seq = ++seq;
    ev.time_us = now;
    ev.body = std::move(change);
    batch.Put(changes_cf_, BigEndian64(seq), EncodeEvent(ev));
  };
  auto state_of = [&](const MailObject& m) {
    ObjectState st;
    st.side = Side::kMail;
    st.kind = m.kind;
    st.id = m.address;
    st.dn = m.address;
    st.domain = std::string(m.domain());
    st.address = m.address;
    st.attrs = m.attrs;
    st.version = seq;
    st.source = id_;
    return st;
  };
  auto change_of = [&](const MailObject& m, ChangeOp op) {
    ObservedChange c;
    c.side = Side::kMail;
    c.source = id_;
    c.domain = std::string(m.domain());
    c.kind = m.kind;
    c.id = m.address;
    c.dn = m.address;
    c.op = op;
    c.origin_intent = write.origin_intent;
    if (op != ChangeOp::kDelete) {
      c.full_image = true;
      c.attrs = m.attrs;
    }
    return c;
  };

  // Groups keep the member under its new address.
  std::vector<MailObject> groups;
  DIRLEDGER_RETURN_IF_ERROR(ForEach("", [&](const MailObject& g) {
    if (g.kind != ObjectKind::kGroup) return true;
    const auto& members = AttrValues(g.attrs, field::kMembers);
    if (std::find(members.begin(), members.end(), from) == members.end())
      return true;
    MailObject moved = g;
    std::vector<std::string> m = members;
    std::erase(m, from);
    m.push_back(o.address);
    CanonicalizeValues(&m);
    SetAttr(&moved.attrs, field::kMembers, std::move(m));
    groups.push_back(std::move(moved));
    return true;
  }));
  for (const MailObject& g : groups) {
    record(change_of(g, ChangeOp::kModify));
    batch.Put(objects_cf_, S(g.address), EncodeObjectState(state_of(g)));
  }
  // The object leaves its old address and takes the new one.
  record(change_of(**before, ChangeOp::kDelete));
  batch.Delete(objects_cf_, S(from));
  record(change_of(o, ChangeOp::kAdd));
  batch.Put(objects_cf_, S(o.address), EncodeObjectState(state_of(o)));
  std::string hash;
  const rocksdb::Status got =
      db_->Get(rocksdb::ReadOptions(), secrets_cf_, S(from), &hash);
  if (got.ok()) {
    batch.Put(secrets_cf_, S(o.address), S(hash));
  } else if (!got.IsNotFound()) {
    return FromRocks(got, "reading the password of " + from);
  }
  batch.Delete(secrets_cf_, S(from));
  if (write.password_hash)
    batch.Put(secrets_cf_, S(o.address), S(*write.password_hash));
  if (applied_intent)
    batch.Put(applied_cf_, BigEndian64(applied_intent), BigEndian64(seq));
  // The old address's aliases released, the new one's taken.
  DIRLEDGER_RETURN_IF_ERROR(IndexAliasesLocked(*before, &o, &batch));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync && applied_intent == 0;
  DIRLEDGER_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch),
                                      "renaming " + from + " to " + o.address));
  last_change_ = seq;
  return seq;
}

Status EmbeddedMailDirectory::ReadChanges(std::uint64_t after, std::size_t max,
                                          std::vector<ObservedChange>* out,
                                          std::uint64_t* last) const {
  out->clear();
  *last = after;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), changes_cf_));
  const std::string start = BigEndian64(after + 1);
  for (it->Seek(start); it->Valid() && out->size() < max; it->Next()) {
    if (it->key().size() != 8)
      return Status::Corruption("mail directory: change key of " +
                                std::to_string(it->key().size()) +
                                " bytes, expected 8");
    const std::uint64_t seq = GetBigEndian64({it->key().data(), 8});
    Event ev;
    Status d = DecodeEvent({it->value().data(), it->value().size()}, seq, &ev);
    if (!d.ok()) return d.WithContext("mail directory change feed");
    auto* change = std::get_if<ObservedChange>(&ev.body);
    if (!change)
      return Status::Corruption("mail directory: change " +
                                std::to_string(seq) +
                                " is not an observed change");
    change->connector = ConnectorFor(change->domain);
    out->push_back(std::move(*change));
    *last = seq;
  }
  return FromRocks(it->status(), "reading the change feed");
}

Status EmbeddedMailDirectory::DeliverFrom(std::uint64_t* pos,
                                          SourceSink* sink) {
  const std::size_t batch = BatchSize();
  while (true) {
    std::vector<ObservedChange> changes;
    std::uint64_t last = *pos;
    DIRLEDGER_RETURN_IF_ERROR(ReadChanges(*pos, batch, &changes, &last));
    if (changes.empty()) return Status::Ok();
    std::vector<EventBody> events;
    events.reserve(changes.size());
    for (auto& c : changes) events.emplace_back(std::move(c));
    DIRLEDGER_RETURN_IF_ERROR(
        sink->Deliver(std::move(events), std::to_string(last)));
    *pos = last;
    if (sink->StopRequested()) return Status::Ok();
  }
}

Status EmbeddedMailDirectory::DeliverFirstPoll(std::string_view cookie,
                                               std::uint64_t pos,
                                               SourceSink* sink) {
  if (!cookie.empty() || pos != 0) return Status::Ok();
  std::vector<EventBody> events;
  AppendEmptyRefresh(id_, &events);
  return sink->Deliver(std::move(events), std::to_string(pos));
}

Status EmbeddedMailDirectory::RunOnce(std::string_view cookie,
                                      SourceSink* sink) {
  auto after = ParseCookie(cookie);
  if (!after.ok()) return after.status();
  std::uint64_t pos = *after;
  DIRLEDGER_RETURN_IF_ERROR(DeliverFrom(&pos, sink));
  return DeliverFirstPoll(cookie, pos, sink);
}

Status EmbeddedMailDirectory::Run(std::string_view cookie, SourceSink* sink) {
  auto after = ParseCookie(cookie);
  if (!after.ok()) return after.status();
  std::uint64_t pos = *after;
  std::string first(cookie);
  const auto slice = std::chrono::milliseconds(50);
  const auto poll = std::chrono::duration<double>(options_.poll_interval_s);
  while (!sink->StopRequested()) {
    // Delivers up to the end of the feed as it reads it; `pos` is what was
    // delivered, so a change committed meanwhile is read on the next pass.
    DIRLEDGER_RETURN_IF_ERROR(DeliverFrom(&pos, sink));
    DIRLEDGER_RETURN_IF_ERROR(DeliverFirstPoll(first, pos, sink));
    first = "0";
    sink->CaughtUp();
    std::unique_lock<std::mutex> lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + poll;
    while (last_change_ <= pos && !sink->StopRequested() &&
           std::chrono::steady_clock::now() < deadline) {
      changed_.wait_for(lock, slice);
    }
  }
  return Status::Ok();
}

ApplyResult EmbeddedMailDirectory::Apply(const Intent& intent) {
  ApplyResult result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (intent.id != 0) {
      std::string v;
      auto s = db_->Get(rocksdb::ReadOptions(), applied_cf_,
                        BigEndian64(intent.id), &v);
      if (s.ok()) {
        result.already_applied = true;
        result.message = "intent " + std::to_string(intent.id) +
                         " was already applied to " + intent.target_id;
        return result;
      }
      if (!s.IsNotFound()) {
        result.status = FromRocks(s, "reading applied intents");
        return result;
      }
    }
    auto address = NormalizeAddress(intent.target_id);
    std::optional<MailObject> current;
    if (address.ok()) {
      auto got = Get(*address);
      if (!got.ok()) {
        result.status = got.status();
        return result;
      }
      current = std::move(got).value();
    }
    std::optional<MailObject> leaving;  // a rename's object at its old address
    if (intent.op == IntentOp::kRename) {
      if (auto from = NormalizeAddress(intent.dn); from.ok()) {
        auto got = Get(*from);
        if (!got.ok()) {
          result.status = got.status();
          return result;
        }
        leaving = std::move(got).value();
      }
    }
    auto plan = intent.op == IntentOp::kRename
                    ? PlanRename(intent, leaving, current)
                    : PlanIntent(intent, current);
    if (!plan.ok()) {
      result.status = plan.status();
      return result;
    }
    result.message = plan->description;
    if (plan->action == ApplyPlan::Action::kNothing) {
      result.already_applied = true;
      return result;
    }
    if ((plan->action == ApplyPlan::Action::kCreate ||
         plan->action == ApplyPlan::Action::kRename) &&
        !HasDomain(plan->target.domain())) {
      result.status = Status::NotFound(
          "domain " + std::string(plan->target.domain()) +
          " does not exist in the mail directory (add it to the config's "
          "[[domain]] list or with `dirledger mail add-domain`)");
      return result;
    }
    MailWrite w;
    w.object = plan->target;
    w.origin_intent = intent.id;
    w.renamed_from = plan->renamed_from;
    w.op = plan->action == ApplyPlan::Action::kCreate ||
                   plan->action == ApplyPlan::Action::kRename
               ? ChangeOp::kAdd
           : plan->action == ApplyPlan::Action::kUpdate ? ChangeOp::kModify
                                                        : ChangeOp::kDelete;
    auto seq = CommitLocked(w, intent.id);
    if (!seq.ok()) {
      result.status = seq.status();
      return result;
    }
  }
  changed_.notify_all();
  return result;
}

}  // namespace dirledger

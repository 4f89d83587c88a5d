// Persist-mode latency of `dirledger run` (benchmark, not a test): with the
// daemon running against a slapd, sends N single LDAP modifies one at a
// time, and times each from just before ldap_modify_ext_s() until
//   mail     the embedded mail directory holds the new value (the object's
//            field in <data>/mail, what a mail server reading it sees);
//   outcome  the log holds the WriteOutcome of the intent that wrote it
//            (appended after the mail directory synced the write);
//   change   (for the breakdown) the log holds the LDAP change itself.
// It watches both RocksDB databases as a read-only secondary instance
// (rocksdb::DB::OpenAsSecondary + TryCatchUpWithPrimary every
// --poll-us), so the daemon runs exactly as in production. A record is seen
// once the primary has written it to its WAL; the primary's commit returns
// after its fsync, which may end a little later.
//
//   persist_latency --uri ldap://127.0.0.1:4200 --bind-dn DN
//       --password-file FILE --data-dir DATA --count 1000
//       --dn-format 'uid=user%06d,ou=people,dc=example,dc=com'
//       --address-format 'user%06d@example.com'
// Prints key=value lines: p50/p90/p99/max/mean in milliseconds of each.
#include <ldap.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <stdlib.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"
#include "codecs/projection.h"
#include "codecs/sha256.h"

namespace dirledger {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "persist_latency: %s\n", what.c_str());
  std::exit(1);
}

// A secondary instance of one of the daemon's databases.
class Follower {
 public:
  Follower(const std::string& primary, const std::string& secondary) {
    rocksdb::Options o;
    o.max_open_files = -1;  // required for secondaries
    o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    std::vector<std::string> names;
    auto s = rocksdb::DB::ListColumnFamilies(o, primary, &names);
    if (!s.ok())
      Die("listing column families of " + primary + ": " + s.ToString());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names)
      cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    s = rocksdb::DB::OpenAsSecondary(o, primary, secondary, cfs, &handles_,
                                     &raw);
    if (!s.ok()) Die("opening " + primary + " as a secondary: " + s.ToString());
    db_.reset(raw);
    for (size_t i = 0; i < names.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~Follower() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  void CatchUp() {
    auto s = db_->TryCatchUpWithPrimary();
    if (!s.ok()) Die("catching up: " + s.ToString());
  }
  rocksdb::DB* db() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(const std::string& name) {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) Die("no column family " + name);
    return it->second;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

// Reads the log forward from a sequence, decoding what it needs.
class LogTail {
 public:
  explicit LogTail(Follower* f) : f_(f), cf_(f->cf("log")) {
    std::unique_ptr<rocksdb::Iterator> it(f_->db()->NewIterator({}, cf_));
    it->SeekToLast();
    if (it->Valid()) next_ = GetBigEndian64({it->key().data(), 8}) + 1;
  }
  // Visits events appended since the last call.
  template <typename Fn>
  void Poll(Fn fn) {
    std::unique_ptr<rocksdb::Iterator> it(f_->db()->NewIterator({}, cf_));
    Event e;
    for (it->Seek(BigEndian64(next_)); it->Valid(); it->Next()) {
      const std::uint64_t seq = GetBigEndian64({it->key().data(), 8});
      std::string_view v(it->value().data(), it->value().size());
      Status s = DecodeEvent(v.substr(0, v.size() - kSha256Size), seq, &e);
      if (!s.ok()) Die(s.ToString());
      fn(e);
      next_ = seq + 1;
    }
  }

 private:
  Follower* f_;
  rocksdb::ColumnFamilyHandle* cf_;
  std::uint64_t next_ = 1;
};

std::string Format(const std::string& fmt, int i) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt.c_str(), i);
  return buf;
}

struct Figures {
  std::vector<double> ms;
  void Print(const char* name) {
    if (ms.empty()) return;
    std::vector<double> v = ms;
    std::sort(v.begin(), v.end());
    auto at = [&](double p) {
      size_t i =
          static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
      return v[std::min(i, v.size() - 1)];
    };
    double sum = 0;
    for (double x : v) sum += x;
    std::printf(
        "%s_p50_ms=%.2f\n%s_p90_ms=%.2f\n%s_p99_ms=%.2f\n%s_max_ms=%.2f\n"
        "%s_mean_ms=%.2f\n",
        name, at(0.5), name, at(0.9), name, at(0.99), name, v.back(), name,
        sum / static_cast<double>(v.size()));
  }
};

}  // namespace
}  // namespace dirledger

int main(int argc, char** argv) {
  using namespace dirledger;
  CLI::App app("persist-mode latency of a running `dirledger run`");
  std::string uri, bind_dn, password_file, data_dir, dn_format, address_format;
  std::string attr = "title", field = "title";
  int count = 1000, first = 1, poll_us = 200;
  double timeout_s = 10;
  app.add_option("--uri", uri)->required();
  app.add_option("--bind-dn", bind_dn)->required();
  app.add_option("--password-file", password_file)->required();
  app.add_option("--data-dir", data_dir)->required();
  app.add_option("--dn-format", dn_format)->required();
  app.add_option("--address-format", address_format)->required();
  app.add_option("--attr", attr, "LDAP attribute modified");
  app.add_option("--field", field, "mail field it maps to");
  app.add_option("--count", count);
  app.add_option("--first", first, "number of the first entry");
  app.add_option("--poll-us", poll_us);
  app.add_option("--timeout-s", timeout_s, "per modify");
  CLI11_PARSE(app, argc, argv);

  std::string password;
  {
    std::ifstream in(password_file);
    std::getline(in, password);
  }
  LDAP* ld = nullptr;
  if (ldap_initialize(&ld, uri.c_str()) != LDAP_SUCCESS) Die("ldap_initialize");
  int version = LDAP_VERSION3;
  ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
  berval cred{static_cast<ber_len_t>(password.size()), password.data()};
  int rc = ldap_sasl_bind_s(ld, bind_dn.c_str(), LDAP_SASL_SIMPLE, &cred,
                            nullptr, nullptr, nullptr);
  if (rc != LDAP_SUCCESS) Die(std::string("bind: ") + ldap_err2string(rc));

  char templ[] = "/tmp/dirledger-latency-XXXXXX";
  const std::string scratch = mkdtemp(templ);
  Follower mail(data_dir + "/mail", scratch + "/mail");
  Follower log(data_dir + "/log", scratch + "/log");
  LogTail tail(&log);
  rocksdb::ColumnFamilyHandle* objects = mail.cf("objects");

  const std::string nonce = std::to_string(::getpid());
  Figures mail_ms, outcome_ms, change_ms;
  int timeouts = 0;
  for (int i = first; i < first + count; ++i) {
    const std::string dn = Format(dn_format, i);
    const std::string address = Format(address_format, i);
    const std::string value = "Latency " + nonce + " " + std::to_string(i);
    berval bv{static_cast<ber_len_t>(value.size()),
              const_cast<char*>(value.data())};
    berval* vals[] = {&bv, nullptr};
    LDAPMod mod{};
    mod.mod_op = LDAP_MOD_REPLACE | LDAP_MOD_BVALUES;
    mod.mod_type = attr.data();
    mod.mod_bvalues = vals;
    LDAPMod* mods[] = {&mod, nullptr};

    const auto t0 = Clock::now();
    rc = ldap_modify_ext_s(ld, dn.c_str(), mods, nullptr, nullptr);
    if (rc != LDAP_SUCCESS) Die("modify " + dn + ": " + ldap_err2string(rc));
    const auto ms = [&] {
      return std::chrono::duration<double, std::milli>(Clock::now() - t0)
          .count();
    };
    double seen_mail = -1, seen_outcome = -1, seen_change = -1;
    std::uint64_t change_seq = 0;
    while (seen_mail < 0 || seen_outcome < 0 || seen_change < 0) {
      mail.CatchUp();
      log.CatchUp();
      if (seen_mail < 0) {
        std::string v;
        if (mail.db()->Get({}, objects, address, &v).ok()) {
          ObjectState o;
          if (DecodeObjectState(v, &o).ok() &&
              FirstValue(o.attrs, field) == value)
            seen_mail = ms();
        }
      }
      tail.Poll([&](const Event& e) {
        if (const auto* c = std::get_if<ObservedChange>(&e.body)) {
          if (seen_change < 0 && c->side == Side::kLdap &&
              EqualsIgnoreCase(c->dn, dn) &&
              FirstValue(c->attrs, attr) == value) {
            seen_change = ms();
            change_seq = e.seq;
          }
        } else if (const auto* w = std::get_if<WriteOutcome>(&e.body)) {
          // The outcome of an intent decided for that change.
          if (seen_outcome < 0 && change_seq &&
              IntentSeq(w->intent_id) == change_seq && w->ok)
            seen_outcome = ms();
        }
      });
      if (ms() > timeout_s * 1000) {
        ++timeouts;
        break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
    }
    if (seen_mail >= 0) mail_ms.ms.push_back(seen_mail);
    if (seen_outcome >= 0) outcome_ms.ms.push_back(seen_outcome);
    if (seen_change >= 0) change_ms.ms.push_back(seen_change);
  }
  ldap_unbind_ext_s(ld, nullptr, nullptr);
  std::printf("modifies=%d timeouts=%d poll_us=%d\n", count, timeouts, poll_us);
  mail_ms.Print("visible_in_mail");
  outcome_ms.Print("outcome_logged");
  change_ms.Print("change_logged");
  std::filesystem::remove_all(scratch);
  return timeouts ? 1 : 0;
}

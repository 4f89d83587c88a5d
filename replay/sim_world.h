// A simulated deployment for property tests: an LDAP directory and a mail
// directory edited at random by their users, a source per side that
// reports each touched object's current image some time later (coalescing
// changes, as DirSync and a poller do), and an applier per side that makes
// the pending intents in intent id order, as the run loop does, faithful to
// the Applier contract (already-applied detection, `expect` checked, a
// conflicting write refused). Every event is decided as intake decides it:
// Reconcile against a ProjectionStore over MemKvStore, then its delta.
//
// The world is driven by a seeded random generator: the same seed gives the
// same log, byte for byte. Test-only.
#ifndef DIRLEDGER_REPLAY_SIM_WORLD_H_
#define DIRLEDGER_REPLAY_SIM_WORLD_H_

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "codecs/event.h"
#include "codecs/kv_store.h"
#include "codecs/projection_store.h"
#include "replay/rules.h"

namespace dirledger::testing {

struct SimOptions {
  std::string direction = "both_ways";
  std::string resolution = "ldap_wins";  // both_ways only
  int steps = 200;                       // random steps before changes stop
  bool ldap_users = true;                // users edit LDAP
  bool mail_users = true;                // users edit mail
  bool renames = true;                   // LDAP renames (uid changes)
  bool groups = true;                    // groups with members
  int names = 8;                         // size of the account name pool
};

class SimWorld {
 public:
  SimWorld(std::uint64_t seed, SimOptions options);

  // Random steps, then changes stop and every observation and intent is
  // drained, a full refresh of both sides reports every object again, and
  // all is drained again. Returns false (with why()) when it does not
  // settle.
  bool Run();
  const std::string& why() const { return why_; }

  // Whether both directories hold the same objects with the same synced
  // values (groups: the same members); a description of the first
  // difference otherwise.
  bool Converged(std::string* difference) const;
  // Whether the mail directory mirrors LDAP (or LDAP mirrors mail).
  bool MailMirrorsLdap(std::string* difference) const {
    return Converged(difference);
  }

  const std::vector<Event>& events() const { return events_; }
  const std::vector<Decision>& decisions() const { return decisions_; }
  const std::vector<std::string>& encoded_events() const { return enc_events_; }
  const std::vector<std::string>& encoded_decisions() const {
    return enc_decisions_;
  }
  const ProjectionStore& projection() const { return store_; }
  // What that store holds, key by key: its state and links families.
  const MemKvStore& state_kv() const { return state_kv_; }
  const MemKvStore& links_kv() const { return links_kv_; }
  // Intents applied more than once (must stay 0).
  int applied_twice() const { return applied_twice_; }
  std::size_t intents_applied() const { return applied_.size(); }

 private:
  struct Entry {
    std::string dn;
    AttrList attrs;
    ObjectKind kind = ObjectKind::kAccount;
  };
  struct MailObj {
    AttrList attrs;
    ObjectKind kind = ObjectKind::kAccount;
  };
  struct Known {
    std::string dn;
    ObjectKind kind = ObjectKind::kAccount;
  };
  struct Applied {
    bool ok = false;
    bool already = false;
    bool changed = false;
    std::string message;
    std::string assigned;
  };

  void Append(EventBody body);
  bool Drain();
  std::string Pick(const std::vector<std::string>& v);
  int Rand(int n) {
    return static_cast<int>(rng_() % static_cast<unsigned>(n));
  }

  // Users.
  void LdapUserStep();
  void MailUserStep();
  // Sources.
  bool EmitLdap();
  bool EmitMail();
  // Appliers.
  bool ApplyNext(Side side);
  Applied ApplyLdap(const Intent& i, std::string* touched);
  Applied ApplyMail(const Intent& i, std::string* touched);

  // An uid no entry has: `prefix` and a number below options_.names.
  std::string UnusedUid(const char* prefix);
  // Deleting an object drops it from every group (refint on LDAP; the mail
  // directory does the same).
  void DropLdapMember(const std::string& dn);
  void TouchLdap(const std::string& id);
  void DropMailMember(const std::string& address);
  std::string FindLdapByDn(const std::string& dn) const;
  bool MembersExist(const Intent& i) const;

  SimOptions options_;
  std::mt19937_64 rng_;
  MemKvStore state_kv_, links_kv_;
  ProjectionStore store_{&state_kv_, &links_kv_};
  std::shared_ptr<const RuleSet> rules_;
  std::vector<Event> events_;
  std::vector<Decision> decisions_;
  std::vector<std::string> enc_events_, enc_decisions_;
  std::string why_;

  std::map<std::string, Entry> ldap_;        // id -> entry
  std::map<std::string, MailObj> mail_;      // address -> object
  std::map<std::string, Known> ldap_known_;  // what the LDAP source reported
  std::map<std::string, Known> mail_known_;
  // The LDAP source reports touched entries in the order of their last
  // change (as DirSync does; syncrepl keeps every change in order); the mail
  // poller in any order.
  std::vector<std::string> ldap_queue_;
  std::set<std::string> mail_dirty_;
  std::map<std::string, std::uint64_t> ldap_origin_, mail_origin_;
  std::set<std::uint64_t> applied_;
  int applied_twice_ = 0;
  std::uint64_t next_ldap_id_ = 1;
};

}  // namespace dirledger::testing

#endif  // DIRLEDGER_REPLAY_SIM_WORLD_H_

// The reconciler's rules for an observed change (docs/rules.md): scope,
// echo of our own writes, linking, creation, direction, conflicts, deletes
// and renames.
#include <algorithm>
#include <optional>

#include "replay/field_image.h"
#include "replay/intent_writes.h"
#include "replay/ldap_entry.h"
#include "replay/reconcile_internal.h"

namespace dirledger {
namespace {

std::string_view FlowRule(Side from) {
  return from == Side::kLdap ? "ldap-to-mail" : "mail-to-ldap";
}

std::string_view SideTitle(Side s) {
  return s == Side::kLdap ? "LDAP" : "mail";
}

std::vector<std::string> Minus(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

bool IsMembers(std::string_view f) {
  return EqualsIgnoreCase(f, field::kMembers);
}

// Writes one decision makes to one side, in field names.
struct SideWrites {
  AttrList fields;                       // replacements (empty values: remove)
  std::vector<std::string> add_members;  // addresses
  std::vector<std::string> del_members;
  bool empty() const {
    return fields.empty() && add_members.empty() && del_members.empty();
  }
  void Set(std::string_view f, const std::vector<std::string>& values) {
    fields.push_back(Attribute{std::string(f), values});
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const Attribute& a : fields) out.push_back(a.name);
    if (!add_members.empty() || !del_members.empty())
      out.emplace_back(field::kMembers);
    return out;
  }
};

// The state of an object with the intents still pending on it applied.
// (The attributes are borrowed until an intent changes them.)
struct Foreseen {
  bool exists = false;
  std::string dn;
  const AttrList& attrs() const { return borrowed ? *borrowed : own; }
  void Borrow(const AttrList& a) { borrowed = &a; }
  AttrList& Own() {
    if (borrowed) {
      own = *borrowed;
      borrowed = nullptr;
    }
    return own;
  }
  void Clear() {
    borrowed = nullptr;
    own.clear();
  }

 private:
  const AttrList* borrowed = nullptr;
  AttrList own;
};

class ChangeDecider {
 public:
  ChangeDecider(DecisionBuilder& b, const ObservedChange& c)
      : builder_(b),
        change_(c),
        side_(c.side),
        other_(OtherSide(c.side)),
        kind_(c.kind),
        domain_name_(AsciiLower(c.domain)) {}

  Verdict Decide() {
    builder_.Id(change_.id);
    if (side_ == Side::kLdap) builder_.Id(change_.dn);
    domain_ = builder_.rules.config().FindDomain(change_.domain);
    connector_name_ = !change_.connector.empty() ? change_.connector
                      : domain_                  ? domain_->connector
                                                 : std::string();
    connector_ = builder_.rules.connector(connector_name_);
    map_ = connector_ ? &MapFor(*connector_, kind_) : nullptr;
    plan_ = connector_ ? &PlanFor(*connector_, kind_) : nullptr;
    prev_ = builder_.state.Object(side_, kind_, change_.id);
    if (change_.op == ChangeOp::kPresent && change_.attrs.empty() &&
        change_.value_adds.empty() && change_.value_deletes.empty())
      return Present();
    BuildNext();
    if (!domain_)
      return Skip("scope/unknown-domain", Outcome::kSkippedOutOfScope,
                  "its domain " + change_.domain + " is not in the config");
    // Since rules version 2 a domain with sync off says so, whatever its
    // connector (often none); before, the connector was looked up first.
    if (!domain_->ldap_sync && builder_.rules.config().reconciler_rules >= 2)
      return DomainOff();
    if (!connector_)
      return Skip(
          "scope/unknown-connector", Outcome::kSkippedOutOfScope,
          "its connector \"" + connector_name_ + "\" is not in the config");
    if (!change_.connector.empty() && change_.connector != domain_->connector)
      return Skip("scope/other-connector", Outcome::kSkippedOutOfScope,
                  "domain " + domain_->name + " is synced by connector \"" +
                      domain_->connector + "\", not \"" + change_.connector +
                      "\"");
    if (kind_ == ObjectKind::kGroup && !connector_->config.group_sync)
      return Skip("scope/group-sync-off", Outcome::kSkippedOutOfScope,
                  "connector \"" + connector_name_ +
                      "\" does not sync groups (group_sync = false)");
    if (!domain_->ldap_sync) return DomainOff();
    WalkPendings();
    ComputeImages();
    Verdict v = DecideInScope();
    // A linked entry under a new DN: groups may list it by that DN already.
    if (side_ == Side::kLdap && next_ && prev_ && linked_after_ &&
        !EqualsIgnoreCase(prev_->dn, next_->dn))
      ReleaseMemberWaits(builder_, next_->dn, link().mail_id);
    SettleRefusedAliases(&v);
    PutSelf();
    v.reason += LeftGroups();
    if (!unresolved_.empty()) {
      std::sort(unresolved_.begin(), unresolved_.end());
      unresolved_.erase(std::unique(unresolved_.begin(), unresolved_.end()),
                        unresolved_.end());
      v.reason += "; members left out (no counterpart known): " +
                  JoinNames(unresolved_);
    }
    return v;
  }

 private:
  // --- Inputs and the object's new state -----------------------------------

  std::string Subject() const {
    return Describe(side_, kind_, change_.id,
                    !change_.dn.empty() ? std::string_view(change_.dn)
                    : prev_             ? std::string_view(prev_->dn)
                                        : std::string_view());
  }
  std::string Partner(const std::string& id, const std::string& dn) const {
    return Describe(other_, kind_, id, dn);
  }

  Verdict DomainOff() {
    return Skip("scope/domain-off", Outcome::kSkippedDomainOff,
                "domain " + domain_->name + " has ldap_sync = false");
  }

  Verdict Present() {
    if (prev_)
      return Verdict{"change/present", Outcome::kNoChange,
                     Subject() + " was reported present and unchanged"};
    return Verdict{"change/present", Outcome::kNoChange,
                   Subject() +
                       " was reported present but is not known; "
                       "nothing is recorded until its image arrives"};
  }

  std::string LdapAddress(const AttrList& attrs) const {
    if (!map_) return "";
    std::string_view name = FirstValue(attrs, map_->name_attribute);
    if (name.empty() || domain_name_.empty()) return "";
    return AsciiLower(name) + "@" + domain_name_;
  }

  void BuildNext() {
    if (change_.op == ChangeOp::kDelete) return;
    ObjectState n;
    n.side = side_;
    n.kind = kind_;
    n.id = change_.id;
    n.dn = side_ == Side::kMail  ? change_.id
           : !change_.dn.empty() ? change_.dn
           : prev_               ? prev_->dn
                                 : std::string();
    n.domain = domain_name_;
    n.connector = connector_name_;
    n.source = !change_.source.empty() ? change_.source
               : prev_                 ? prev_->source
                                       : std::string();
    n.version = builder_.seq;
    n.creating_intent = prev_ ? prev_->creating_intent : 0;
    n.leaving_intent = prev_ ? prev_->leaving_intent : 0;
    if (change_.full_image || !prev_) {
      n.attrs = change_.attrs;
      if (!IsCanonical(n.attrs)) CanonicalizeAttrs(&n.attrs);
      DropEmptyAttrs(&n.attrs);
    } else {
      n.attrs = prev_->attrs;
      for (const Attribute& a : change_.attrs)
        SetAttr(&n.attrs, a.name, a.values);
    }
    if (!change_.value_adds.empty() || !change_.value_deletes.empty()) {
      Intent delta;
      delta.add_values = change_.value_adds;
      delta.delete_values = change_.value_deletes;
      ApplyWrites(delta, &n.attrs);
    }
    n.address =
        side_ == Side::kMail ? AsciiLower(change_.id) : LdapAddress(n.attrs);
    next_ = std::move(n);
  }

  Verdict Skip(std::string rule, Outcome outcome, const std::string& why) {
    PutSelf();
    return Verdict{std::move(rule), outcome,
                   Subject() + " " + std::string(ChangeOpName(change_.op)) +
                       " recorded, not synced: " + why + LeftGroups()};
  }

  // The groups a deleted LDAP entry was dropped from (rules version 7), for
  // the reason.
  std::string LeftGroups() const {
    std::string out;
    if (!renamed_in_.empty())
      out = "; listed under its new DN by " + JoinNames(renamed_in_) +
            ", as LDAP renamed it in the groups without reporting them";
    if (!change_.remains_at.empty() && change_.op == ChangeOp::kDelete)
      out = "; not deleted: it left the connector's scope and is at \"" +
            change_.remains_at + "\"";
    if (left_groups_.empty()) return out;
    if (FollowsRemains())
      return out + "; listed as \"" + change_.remains_at + "\" by " +
             JoinNames(left_groups_) +
             ", as LDAP renamed it in the groups without reporting them";
    return out + "; dropped from the members of " + JoinNames(left_groups_) +
           ", as LDAP dropped it without reporting the groups";
  }

  // Rules version 11: this delete is of an entry that left the scope and
  // names where it is (ObservedChange::remains_at).
  bool FollowsRemains() const {
    return change_.op == ChangeOp::kDelete && !change_.remains_at.empty() &&
           builder_.rules.config().reconciler_rules >= 11;
  }

  // Writes the object's new state and drops the pending intents settled by
  // this observation.
  void PutSelf() {
    for (const PendingIntent* p : consumed_)
      builder_.Put(ErasePending{p->intent.id});
    for (const PendingIntent* p : dropped_)
      builder_.Put(ErasePending{p->intent.id});
    // Rules version 7: LDAP groups' members are indexed, and an entry that
    // leaves is dropped from the groups that list it, as the directory
    // dropped it without reporting them (docs/rules.md section 8).
    if (side_ == Side::kLdap && DropsLeftMembers(builder_)) {
      if (kind_ == ObjectKind::kGroup && map_)
        IndexLdapMembers(builder_, change_.id, prev_ ? &prev_->attrs : nullptr,
                         next_ ? &next_->attrs : nullptr,
                         map_->members_attribute);
      // A delete dirledger made (its echo) left the groups as they were:
      // the writer's assertion control keeps memberof-refint out.
      const bool own_delete = std::any_of(
          consumed_.begin(), consumed_.end(), [](const PendingIntent* p) {
            return p->intent.op == IntentOp::kDelete;
          });
      // Rules version 9: an entry that leaves stays a member of the groups
      // that keep its DN, paired with its address (the mail groups keep
      // that); a new entry at a DN ends the pairing.
      if (builder_.rules.config().reconciler_rules >= 9) {
        if (prev_ && !next_)
          RememberGoneMember(builder_, kind_, change_.id, prev_->dn);
        if (next_ &&
            (!prev_ || NormalizeDn(prev_->dn) != NormalizeDn(next_->dn)))
          ForgetGoneMember(builder_, next_->dn);
      }
      if (prev_ && !next_ && !own_delete) {
        const LinkState* l = builder_.state.LinkByLdap(kind_, change_.id);
        // Rules version 11: an entry that left the scope, not the
        // directory, is renamed in its groups, not dropped.
        const std::vector<std::string> left =
            FollowsRemains() ? FollowLeftMember(builder_, change_.id, prev_->dn,
                                                change_.remains_at,
                                                change_.source, &left_groups_)
                             : DropLeftMember(builder_, change_.id, prev_->dn,
                                              change_.source, &left_groups_);
        for (const std::string& gid : left) {
          if (!l) continue;
          // Created again for its mail object (which won a conflict), the
          // entry is given back to the groups; else they lose its address.
          if (!recreated_dn_.empty())
            LdapGroupGets(builder_, gid, recreated_dn_, l->mail_id);
          else
            MailGroupLoses(builder_, gid, kind_, l->mail_id);
        }
      }
      // Rules version 11: renamed, it is renamed in the groups that list
      // it, as refint did.
      if (prev_ && next_ && builder_.rules.config().reconciler_rules >= 11 &&
          NormalizeDn(prev_->dn) != NormalizeDn(next_->dn))
        renamed_in_ = FollowRenamedMember(builder_, change_.id, prev_->dn,
                                          next_->dn, change_.source);
      if (!prev_ && next_) {
        // Linked by this decision, or before.
        std::string address = builder_.d->link_ldap_id == change_.id
                                  ? builder_.d->link_mail_id
                                  : "";
        if (const LinkState* l = builder_.state.LinkByLdap(kind_, change_.id);
            address.empty() && l)
          address = l->mail_id;
        for (const std::string& gid :
             RestoreReturningMember(builder_, change_.id, next_->dn))
          GiveBackMember(builder_, gid, next_->dn, address);
      }
    }
    if (next_)
      builder_.Put(PutObject{std::move(*next_)});  // last use of next_
    else if (prev_)
      builder_.Put(EraseObject{side_, kind_, change_.id});
  }

  // --- Echo of our own writes ----------------------------------------------

  // Sorts the intents pending on this object into those this observation
  // shows done (consumed: the echo), those it makes impossible (their
  // `expect` no longer holds: the applier would refuse them), and those
  // still to come.
  void WalkPendings() {
    std::vector<const PendingIntent*> pending;
    builder_.state.PendingFor(side_, kind_, change_.id, &pending);
    const PendingIntent* origin = nullptr;
    if (change_.origin_intent != 0) {
      origin = builder_.state.Pending(change_.origin_intent);
      if (origin &&
          (origin->intent.target != side_ || origin->intent.kind != kind_ ||
           (!origin->intent.target_id.empty() &&
            origin->intent.target_id != change_.id)))
        origin = nullptr;
      if (origin) consumed_.push_back(origin);
    }
    if (origin) TakeAhead(*origin, pending);
    if (!pending.empty() || origin) {
      const AttrList* seen = next_ ? &next_->attrs : nullptr;
      std::optional<AttrList> running;
      if (next_) running = next_->attrs;
      // Intents after a pending rename away are for the object that takes
      // this address next, not for the one observed.
      const std::uint64_t leaving = Leaving(prev_);
      bool kept = false;
      for (const PendingIntent* p : pending) {
        if (p == origin || (origin && p->intent.id == origin->intent.id))
          continue;
        if (leaving && p->intent.id > leaving) continue;
        if (IsAhead(p)) continue;
        const Intent& i = p->intent;
        const bool visible = WritesVisible(i, seen);
        if (p->applied) {
          (visible ? consumed_ : dropped_).push_back(p);
          continue;
        }
        const bool holds = ExpectHolds(i, running ? &*running : nullptr);
        if (visible && !holds) {
          consumed_.push_back(p);
        } else if (holds) {
          kept = true;
          if (i.op == IntentOp::kDelete) {
            running.reset();
          } else {
            if (!running) running = RenamedFrom(i);
            ApplyWrites(i, &*running);
          }
        } else {
          dropped_.push_back(p);
        }
      }
      // This object as it will be once the intents still pending on it are
      // applied.
      if (kept && running) self_foreseen_ = std::move(running);
    }
    // The state before this observation, with the consumed writes in it:
    // what is left to compare is what someone else changed.
    prev_exists_ = prev_ != nullptr;
    if (prev_) eff_prev_.Borrow(prev_->attrs);
    std::sort(consumed_.begin(), consumed_.end(),
              [](const PendingIntent* a, const PendingIntent* c) {
                return a->intent.id < c->intent.id;
              });
    for (const PendingIntent* p : consumed_) {
      const Intent& i = p->intent;
      if (i.op == IntentOp::kDelete) {
        prev_exists_ = false;
        eff_prev_.Clear();
      } else {
        if (!prev_exists_) eff_prev_.Own() = RenamedFrom(i);
        prev_exists_ = true;
        ApplyWrites(i, &eff_prev_.Own());
      }
    }
    if (prev_exists_)
      for (const PendingIntent* p : ahead_)
        ApplyWrites(p->intent, &eff_prev_.Own());
  }

  // The observation reports the write of `origin`, one step of what
  // dirledger wrote to this object. Writes are made in intent id order, so
  // the Modify intents pending on it that were applied after `origin` (the
  // later steps) are not in this image yet: they are done all the same, and
  // each will be reported by its own echo. They are taken into the object's
  // new state (and into the state before, so that they compare equal): an
  // intermediate echo is never someone else's change, and its intents stay
  // pending until their own echoes. Rules before version 2 took no such
  // steps (docs/rules.md, "Rules versions").
  void TakeAhead(const PendingIntent& origin,
                 const std::vector<const PendingIntent*>& pending) {
    if (!next_ || builder_.rules.config().reconciler_rules < 2) return;
    const std::uint64_t leaving = Leaving(prev_);
    for (const PendingIntent* p : pending) {
      const Intent& i = p->intent;
      if (i.id <= origin.intent.id) continue;
      if (leaving && i.id > leaving) break;
      if (!p->applied || i.op != IntentOp::kModify) break;
      ahead_.push_back(p);
      ApplyWrites(i, &next_->attrs);
    }
  }

  bool IsAhead(const PendingIntent* p) const {
    return std::find(ahead_.begin(), ahead_.end(), p) != ahead_.end();
  }

  // What an Add or a mail Rename starts from: nothing, or the attributes of
  // the object being renamed, with the writes still pending at the old
  // address before the rename. Since rules version 10 these include the
  // Add that is making the object (a rename decided before the object's
  // Add was made); before, the object at the new address was foreseen
  // without the Add's values, and a write decided against it expected
  // them absent and was refused.
  AttrList RenamedFrom(const Intent& i) {
    if (!IsMailRename(i)) return {};
    const ObjectState* old = builder_.state.Object(Side::kMail, i.kind, i.dn);
    AttrList out = old ? old->attrs : AttrList{};
    const bool adds = builder_.rules.config().reconciler_rules >= 10 && !old;
    std::vector<const PendingIntent*> pending;
    builder_.state.PendingFor(Side::kMail, i.kind, i.dn, &pending);
    for (const PendingIntent* p : pending)
      if (!p->applied && p->intent.id < i.id &&
          (p->intent.op == IntentOp::kModify ||
           (adds && p->intent.op == IntentOp::kAdd)))
        ApplyWrites(p->intent, &out);
    return out;
  }

  void ComputeImages() {
    if (!map_) return;
    if (prev_exists_)
      ImageOfAttrs(side_, eff_prev_.attrs(), prev_ ? prev_->dn : change_.dn,
                   prev_ ? prev_->address : std::string(), *plan_,
                   &builder_.state, prev_image_.get(), nullptr, nullptr,
                   change_.id);
    if (next_) {
      ImageOf(*next_, *plan_, &builder_.state, next_image_.get(), &unresolved_,
              side_ == Side::kLdap ? &refused_ : nullptr);
      if (self_foreseen_) {
        ImageOfAttrs(side_, *self_foreseen_, next_->dn, next_->address, *plan_,
                     &builder_.state, self_foreseen_image_.get(), nullptr,
                     nullptr, change_.id);
        self_after_ = &self_foreseen_fields_;
      }
      // An LDAP group's members without a mail counterpart yet wait for it.
      if (side_ == Side::kLdap && kind_ == ObjectKind::kGroup)
        for (const std::string& dn : unresolved_)
          builder_.Put(PutWait{Side::kLdap, AsciiLower(dn), change_.id});
    }
    changed_ = DiffFields(prev_fields_, next_fields_);
    existence_changed_ = prev_exists_ != next_.has_value();
  }

  bool Unchanged() const { return changed_.empty() && !existence_changed_; }

  Verdict EchoOrNoChange() const {
    if (!consumed_.empty()) {
      const bool by_origin =
          change_.origin_intent != 0 && consumed_.size() == 1 &&
          consumed_.front()->intent.id == change_.origin_intent;
      return Verdict{by_origin ? "echo/origin" : "echo/values", Outcome::kEcho,
                     Subject() + " " + std::string(ChangeOpName(change_.op)) +
                         " is the result of intent " + IntentRef() +
                         "; nothing else changed"};
    }
    return Verdict{"change/none", Outcome::kNoChange,
                   Subject() + " " + std::string(ChangeOpName(change_.op)) +
                       " changed no synced field"};
  }

  // Nothing synced changed: an echo, a move to another DN, or no change.
  Verdict Quiet() const {
    if (consumed_.empty() && prev_ && next_ && side_ == Side::kLdap &&
        NormalizeDn(prev_->dn) != NormalizeDn(next_->dn))
      return Verdict{"rename/dn", Outcome::kNoChange,
                     Subject() + " moved from " + prev_->dn +
                         "; its mail address and link stay"};
    return EchoOrNoChange();
  }

  // What the mail directory reports of a rename dirledger made, besides
  // the object at its new address (rules version 3): the old address gone,
  // and each group that lists the object with its member renamed, each
  // naming the Rename as its origin. Both are echoes, also when the
  // rename's outcome was decided first (it moved the object already).
  std::optional<Verdict> RenameEcho() const {
    if (side_ != Side::kMail || change_.origin_intent == 0 ||
        builder_.rules.config().reconciler_rules < 3)
      return std::nullopt;
    const PendingIntent* p = builder_.state.Pending(change_.origin_intent);
    if (!p || !IsMailRename(p->intent) || p->intent.target_id == change_.id)
      return std::nullopt;
    const Intent& r = p->intent;
    const std::string ref = IntentName(r.id);
    if (!next_ && r.dn == change_.id && r.kind == kind_)
      return Verdict{"echo/rename", Outcome::kEcho,
                     Subject() + " is gone: intent " + ref + " renamed it to " +
                         r.target_id};
    if (next_ && prev_ && kind_ == ObjectKind::kGroup) {
      std::vector<std::string> was = AttrValues(prev_->attrs, field::kMembers);
      std::erase(was, r.dn);
      was.push_back(r.target_id);
      CanonicalizeValues(&was);
      AttrList expected = prev_->attrs;
      SetAttr(&expected, field::kMembers, std::move(was));
      if (expected == next_->attrs)
        return Verdict{"echo/rename", Outcome::kEcho,
                       Subject() + " lists " + r.target_id + " instead of " +
                           r.dn + ": intent " + ref + " renamed that member"};
    }
    return std::nullopt;
  }

  // Rules version 11: a mail group whose member a Rename renamed (the echo
  // RenameEcho recognized) and its LDAP group, where refint renamed the
  // entry's DN, agree on the new address as they agreed on the old. Before,
  // the agreed members kept the old one, and the new address counted as
  // the mail side's addition: both ways LDAP's removal of the member was
  // undone (model seed 2400099), one way the mail group kept it.
  void AgreeOnRenamedMember() {
    if (kind_ != ObjectKind::kGroup || !next_ ||
        builder_.rules.config().reconciler_rules < 11)
      return;
    const PendingIntent* p = builder_.state.Pending(change_.origin_intent);
    const LinkState* link = builder_.state.LinkByMail(kind_, change_.id);
    if (!p || !link || link->mail_id != change_.id) return;
    std::vector<std::string> agreed = AttrValues(link->agreed, field::kMembers);
    if (!HasValueIgnoreCase(agreed, p->intent.dn)) return;
    std::erase_if(agreed, [&](const std::string& m) {
      return EqualsIgnoreCase(m, p->intent.dn);
    });
    agreed.push_back(p->intent.target_id);
    CanonicalizeValues(&agreed);
    LinkState out = *link;
    SetAttr(&out.agreed, field::kMembers, std::move(agreed));
    out.version = builder_.seq;
    builder_.Put(PutLink{std::move(out)});
  }

  std::string IntentRef() const {
    std::string out;
    for (const PendingIntent* p : consumed_) {
      if (!out.empty()) out += ", ";
      out += IntentName(p->intent.id);
    }
    return out;
  }

  // --- Dispatch ------------------------------------------------------------

  Verdict DecideInScope() {
    direction_ = connector_->config.direction;
    if (auto echo = RenameEcho()) {
      AgreeOnRenamedMember();
      return *std::move(echo);
    }
    if (side_ == Side::kMail && prev_ && prev_->leaving_intent != 0) {
      const std::string rename = IntentName(prev_->leaving_intent);
      if (!next_ && builder_.rules.config().reconciler_rules >= 10)
        if (auto v = DeletedBeforeRename()) return *std::move(v);
      if (!next_)
        return Verdict{
            "echo/rename", Outcome::kEcho,
            Subject() + " is gone: intent " + rename + " renamed it"};
      if (Leaving(prev_) && builder_.rules.config().reconciler_rules >= 10)
        if (auto v = ReplanRename()) return *std::move(v);
      if (Leaving(prev_))
        return Verdict{"rename/pending", Outcome::kNoChange,
                       Subject() + " " + std::string(ChangeOpName(change_.op)) +
                           " recorded; intent " + rename +
                           " is renaming it to another address, which takes "
                           "its values along"};
      next_->leaving_intent = 0;
    }
    const LinkState* link = side_ == Side::kLdap
                                ? builder_.state.LinkByLdap(kind_, change_.id)
                                : builder_.state.LinkByMail(kind_, change_.id);
    if (link && side_ == Side::kMail && link->mail_id != change_.id)
      link = nullptr;
    if (link) {
      link_src_ = link;
      return Linked();
    }
    return Unlinked();
  }

  // The linked object on the other side, as observed and as it will be once
  // the intents pending on it are applied.
  void LoadPartner(const std::string& id) {
    partner_id_ = id;
    partner_ = builder_.state.Object(other_, kind_, id);
    // An object being renamed away is not the partner: what comes after it
    // at this address is.
    const std::uint64_t leaving = Leaving(partner_);
    if (leaving) partner_ = nullptr;
    foreseen_.exists = partner_ != nullptr;
    if (partner_) {
      foreseen_.Borrow(partner_->attrs);
      foreseen_.dn = partner_->dn;
      ImageOf(*partner_, *plan_, &builder_.state, partner_image_.get());
    }
    std::vector<const PendingIntent*> pending;
    builder_.state.PendingFor(other_, kind_, id, &pending);
    bool moved = false;
    for (const PendingIntent* p : pending) {
      if (p->applied || p->intent.id < leaving) continue;
      const Intent& i = p->intent;
      if (i.op == IntentOp::kDelete) {
        foreseen_.exists = false;
        foreseen_.Clear();
      } else {
        if (i.op == IntentOp::kAdd || IsMailRename(i)) {
          foreseen_.exists = true;
          foreseen_.Own() = RenamedFrom(i);
          foreseen_.dn = IsMailRename(i) ? i.new_dn : i.dn;
        } else if (i.op == IntentOp::kRename) {
          foreseen_.dn = i.new_dn;
        }
        if (foreseen_.exists) ApplyWrites(i, &foreseen_.Own());
      }
      moved = true;
    }
    partner_after_ = moved ? &foreseen_fields_ : &partner_fields_;
    if (moved && foreseen_.exists) {
      ImageOfAttrs(
          other_, foreseen_.attrs(), foreseen_.dn,
          other_ == Side::kMail ? id : LdapAddressOf(), *plan_, &builder_.state,
          foreseen_image_.get(), nullptr, nullptr,
          other_ == Side::kLdap ? std::string_view(id) : std::string_view());
    }
  }

  std::string LdapAddressOf() const {
    return partner_ ? partner_->address : std::string();
  }

  // --- Linked objects --------------------------------------------------------

  Verdict Linked() {
    LoadPartner(side_ == Side::kLdap ? link().mail_id : link().ldap_id);
    if (side_ == Side::kLdap) {
      builder_.Id(link().mail_id);
    } else {
      builder_.Id(link().ldap_id);
      if (partner_) builder_.Id(partner_->dn);
    }
    if (!next_) return LinkedDelete();
    if (FoundInPlace()) return FirstMeet(partner_id_);
    return LinkedUpdate();
  }

  // One way, the object being created on this side for its linked partner
  // is reported there already, made by someone else (the Add, which needs
  // the address free, is dropped): since rules version 5 the two meet, and
  // the authoritative side's values are written over it. Before, the change
  // was discarded and the partner's values never came.
  bool FoundInPlace() const {
    if (builder_.rules.config().reconciler_rules < 5 || !partner_ ||
        !foreseen_.exists || Propagates(direction_, side_) ||
        !consumed_.empty())
      return false;
    for (const PendingIntent* p : dropped_)
      if (p->intent.op == IntentOp::kAdd && p->intent.target == side_ &&
          !p->applied)
        return true;
    return false;
  }

  LinkSides Sides() const {
    LinkSides sides;
    const AttrList* self = next_ ? &next_fields_ : nullptr;
    const AttrList* other = partner_ ? &partner_fields_ : nullptr;
    sides.ldap = side_ == Side::kLdap ? self : other;
    sides.mail = side_ == Side::kMail ? self : other;
    if (side_ == Side::kLdap && next_) sides.ldap_address = next_->address;
    if (other_ == Side::kLdap && partner_)
      sides.ldap_address = partner_->address;
    return sides;
  }

  void Settle(bool link_changed, const std::vector<std::string>& opened,
              bool create_drift) {
    SettleLink(builder_, connector_, link(), link_changed, Sides(), opened,
               create_drift);
  }

  Verdict Discard(bool linked, bool drift) {
    if (linked) Settle(false, {}, drift);
    const std::string what = changed_.empty() || !prev_exists_ || !next_
                                 ? std::string(ChangeOpName(change_.op))
                                 : "change of " + JoinNames(changed_);
    return Verdict{"direction/" + std::string(DirectionName(direction_)),
                   Outcome::kDiscardedDirection,
                   Subject() + " " + what +
                       " recorded and discarded: direction " +
                       std::string(DirectionName(direction_)) + " takes no " +
                       std::string(SideTitle(side_)) + " changes" +
                       (linked && drift ? "; drift reported" : "")};
  }

  Verdict LinkedDelete() {
    if (!consumed_.empty()) {
      Settle(false, {}, false);
      return EchoOrNoChange();
    }
    if (!prev_exists_)
      return Verdict{
          "delete/unknown", Outcome::kNoChange,
          Subject() + " delete of an object not known; nothing to do"};
    if (!foreseen_.exists) {
      Settle(false, {}, false);
      return Verdict{"delete/both-gone", Outcome::kNoChange,
                     Subject() + " deleted; its linked " +
                         Partner(partner_id_, "") +
                         " is gone too, the link is dropped"};
    }
    if (!Propagates(direction_, side_)) {
      // One way from mail, an entry added with the deleted one's name (its
      // add reported first) waits for the address: it takes it, and the
      // mail object's values (rules version 5).
      const std::string address = link().mail_id;
      if (side_ == Side::kLdap && partner_ && !Leaving(partner_) &&
          builder_.rules.config().reconciler_rules >= 5) {
        const std::string taker =
            ReleaseAddressWaits(builder_, kind_, address, &link(), partner_);
        if (!taker.empty())
          return Verdict{
              "link/address-released", Outcome::kDiscardedDirection,
              Subject() + " delete recorded and discarded: direction " +
                  std::string(DirectionName(direction_)) +
                  " takes no LDAP changes; " +
                  Describe(Side::kLdap, kind_, "", taker) +
                  ", which waited for address " + address + ", is linked to " +
                  Partner(partner_id_, "") + " and takes its values"};
      }
      // Rules version 9: a write of the authoritative object's values to
      // this one, decided before this delete was seen and not made (a
      // first meeting's, a change's), is planned again against the
      // object's absence: it is created again, as a change of the
      // authoritative object finds it missing. Both were made since the
      // last run, in an order not known; before, the write was dropped and
      // the object stayed deleted until that object changed again.
      if (builder_.rules.config().reconciler_rules >= 9 && partner_ &&
          !Leaving(partner_)) {
        if (std::string refs = DroppedWritesOfPartner(); !refs.empty()) {
          Recreate(side_, *partner_, partner_fields_);
          return Verdict{
              "create/" + std::string(FlowRule(other_)), Outcome::kPropagated,
              Subject() + " deleted while intent " + refs +
                  ", a write of its linked " + Partner(partner_id_, "") +
                  "'s values, was not made yet; it is created "
                  "again with those values"};
        }
      }
      return Discard(true, true);
    }
    if (side_ == Side::kLdap && connector_->config.ignore_ldap_deletes) {
      builder_.Put(EraseLink{kind_, link().ldap_id, link().mail_id});
      if (builder_.state.Conflict(kind_, link().ldap_id))
        builder_.Put(EraseConflict{kind_, link().ldap_id});
      if (builder_.state.Drift(kind_, link().ldap_id))
        builder_.Put(EraseDrift{kind_, link().ldap_id});
      ReleaseAddressWaits(builder_, kind_, link().mail_id, nullptr, partner_);
      return Verdict{"delete/ignored", Outcome::kIgnoredDelete,
                     Subject() + " deleted; ignore_ldap_deletes keeps " +
                         Partner(partner_id_, "") + ", now unlinked"};
    }
    if (direction_ == Direction::kBothWays && partner_) {
      std::vector<std::string> modified;
      for (const std::string& f : DiffFields(link().agreed, partner_fields_))
        if (!IsMembers(f)) modified.push_back(f);
      if (rename_dropped_) modified.push_back("address");
      if (!modified.empty()) return DeleteVsModify(side_, modified);
    }
    DeletePartner();
    Settle(false, {}, false);
    if (side_ == Side::kLdap)
      ReleaseAddressWaits(builder_, kind_, link().mail_id, &link(), nullptr);
    return Verdict{
        "delete/" + std::string(FlowRule(side_)), Outcome::kPropagated,
        Subject() + " deleted; deleting " + Partner(partner_id_, foreseen_.dn)};
  }

  // Emits the delete of the linked object (foreseen_ exists).
  void DeletePartner() {
    Intent i = NewIntent(other_, IntentOp::kDelete, partner_id_, foreseen_.dn);
    i.expect = ExpectOf(other_, foreseen_.attrs(), *partner_after_);
    i.expected_version = partner_ ? partner_->version : 0;
    builder_.AddIntent(std::move(i));
  }

  // The values a delete of an object asserts: its synced attributes.
  AttrList ExpectOf(Side side, const AttrList& attrs, const AttrList& image) {
    AttrList expect;
    if (side == Side::kMail) {
      for (const Attribute& a : image)
        if (!IsMembers(a.name))
          expect.push_back(Attribute{a.name, AttrValues(attrs, a.name)});
    } else {
      for (const FieldMapping& f : map_->fields)
        expect.push_back(
            Attribute{f.attribute, AttrValues(attrs, f.attribute)});
      if (!map_->aliases_attribute.empty())
        expect.push_back(Attribute{map_->aliases_attribute,
                                   AttrValues(attrs, map_->aliases_attribute)});
    }
    CanonicalizeAttrs(&expect);
    return expect;
  }

  // A delete on `deleter` against modifications on the other side, both
  // since the sides last agreed (both_ways).
  Verdict DeleteVsModify(Side deleter, std::vector<std::string> modified) {
    const ConflictResolution res = connector_->config.conflict_resolution;
    std::vector<std::string> fields = modified;
    fields.push_back("exists");
    builder_.d->conflict_fields = fields;
    const std::string rule =
        "conflict/delete-modify/" + std::string(ConflictResolutionName(res));
    const std::string head =
        Subject() +
        (deleter == side_
             ? " deleted while its linked " +
                   Partner(partner_id_, foreseen_.dn) + " changed " +
                   JoinNames(modified)
             : " changed " + JoinNames(modified) + " while its linked " +
                   Partner(partner_id_, "") + " was deleted");
    Side winner;
    if (!Winner(res, &winner)) {
      Settle(false, fields, false);
      return Verdict{rule, Outcome::kConflictOpen,
                     head +
                         "; no_change: neither is applied, the conflict "
                         "stays open"};
    }
    builder_.d->winner = winner;
    if (winner == deleter) {
      if (deleter == side_) {
        DeletePartner();
      } else {
        Intent i = NewIntent(side_, IntentOp::kDelete, change_.id, next_->dn);
        i.expect = ExpectOf(side_, next_->attrs, next_fields_);
        i.expected_version = builder_.seq;
        builder_.AddIntent(std::move(i));
      }
      Settle(false, {}, false);
      return Verdict{rule, Outcome::kConflictResolved,
                     head + "; " + std::string(ConflictResolutionName(res)) +
                         ": the delete wins"};
    }
    // The modification wins: the deleted object is created again from the
    // side that kept it.
    if (deleter == side_) {
      Recreate(side_, *partner_, partner_fields_);
    } else {
      Recreate(other_, *next_, next_fields_);
    }
    return Verdict{rule, Outcome::kConflictResolved,
                   head + "; " + std::string(ConflictResolutionName(res)) +
                       ": the modification wins, the deleted object is "
                       "created again"};
  }

  // The writes of the partner's values to this object that this change
  // made impossible before they were made, as "27.1, 28.0" ("" if none).
  std::string DroppedWritesOfPartner() const {
    std::string refs;
    for (const PendingIntent* p : dropped_) {
      const Intent& i = p->intent;
      if (p->applied || i.target != side_ || i.source_id != partner_id_ ||
          (i.op != IntentOp::kModify && p != rename_dropped_))
        continue;
      if (!refs.empty()) refs += ", ";
      refs += IntentName(i.id);
    }
    return refs;
  }

  // The partner is gone, or going, for a delete of this object that
  // dirledger carried over (a Delete intent on the partner made from this
  // side's delete, pending or applied and not echoed yet).
  bool DeletedForThisSide() const {
    std::vector<const PendingIntent*> pending;
    builder_.state.PendingFor(other_, kind_, partner_id_, &pending);
    return std::any_of(pending.begin(), pending.end(),
                       [&](const PendingIntent* p) {
                         return p->intent.op == IntentOp::kDelete &&
                                p->intent.source_id == change_.id;
                       });
  }

  // Creates the object on `side` again from `source` (the linked object on
  // the other side) and its image.
  void Recreate(Side side, const ObjectState& source, const AttrList& image) {
    if (side == Side::kMail) {
      const std::string address = source.address;
      Intent i = NewIntent(Side::kMail, IntentOp::kAdd, address, address);
      i.set = image;
      i.source_id = source.id;
      builder_.AddIntent(std::move(i));
      MutLink().mail_id = address;
      LinkSides sides;
      sides.ldap = source.id == change_.id ? &next_fields_ : &partner_fields_;
      sides.ldap_address = address;
      SettleLink(builder_, connector_, link(), true, sides, {}, false);
      ReleaseMemberWaits(builder_, source.dn, address);
      return;
    }
    // A new LDAP entry gets a new id: the old link goes, the mail object
    // remembers the entry being created.
    std::vector<std::string> dns =
        MemberDns(AttrValues(image, field::kMembers), source.id);
    const std::string& address = source.id;
    const size_t at = address.find('@');
    NewEntry e = NewLdapEntry(*connector_, kind_, address.substr(0, at),
                              domain_name_, image, dns);
    Intent i = NewIntent(Side::kLdap, IntentOp::kAdd, "", e.dn);
    i.set = std::move(e.attrs);
    i.source_id = address;
    builder_.Id(i.dn);
    const std::string dn = i.dn;
    const std::uint64_t id = builder_.AddIntent(std::move(i));
    if (source.id != change_.id) recreated_dn_ = dn;  // this entry, deleted
    ReleaseMemberWaits(builder_, dn, address);
    builder_.Put(EraseLink{kind_, link().ldap_id, link().mail_id});
    if (const ConflictState* c = builder_.state.Conflict(kind_, link().ldap_id))
      builder_.Put(EraseConflict{c->kind, c->ldap_id});
    if (const DriftState* d = builder_.state.Drift(kind_, link().ldap_id))
      builder_.Put(EraseDrift{d->kind, d->ldap_id});
    if (source.id == change_.id) {
      next_->creating_intent = id;
    } else {
      ObjectState o = source;
      o.creating_intent = id;
      builder_.Put(PutObject{std::move(o)});
    }
  }

  Verdict LinkedUpdate() {
    linked_after_ = true;
    const bool renamed = side_ == Side::kLdap && !next_->address.empty() &&
                         next_->address != link().mail_id;
    if (!foreseen_.exists) {
      // The linked object is gone from the other side.
      if (direction_ == Direction::kBothWays) {
        // Deleted and added again on this side between two runs: the other
        // side's object goes for this side's delete, and is made again for
        // the object added (rules version 8; before, the delete dirledger
        // itself was making counted as the other side's, against this
        // side's new values: conflict/delete-modify).
        if (builder_.rules.config().reconciler_rules >= 8 &&
            DeletedForThisSide()) {
          Recreate(other_, *next_, next_fields_);
          return Verdict{"create/" + std::string(FlowRule(side_)),
                         Outcome::kPropagated,
                         Subject() + " added again after its delete; its " +
                             "linked " + Partner(partner_id_, "") +
                             ", being deleted for that delete, is created "
                             "again"};
        }
        // Both ways its delete stands against what this side changed since
        // they last agreed (a delete that failed is caught up here).
        std::vector<std::string> modified;
        for (const std::string& f : DiffFields(*self_after_, link().agreed))
          if (!IsMembers(f)) modified.push_back(f);
        if (modified.empty() && !renamed) {
          if (Unchanged() && !consumed_.empty()) {
            Settle(false, {}, false);
            return EchoOrNoChange();
          }
          Intent i = NewIntent(side_, IntentOp::kDelete, change_.id, next_->dn);
          i.expect = ExpectOf(side_, next_->attrs, next_fields_);
          i.expected_version = builder_.seq;
          builder_.AddIntent(std::move(i));
          Settle(false, {}, false);
          return Verdict{"delete/catch-up", Outcome::kPropagated,
                         Subject() + " has not changed since its linked " +
                             Partner(partner_id_, "") +
                             " was deleted; it is deleted too"};
        }
        if (modified.empty()) modified.push_back("exists");
        return DeleteVsModify(other_, modified);
      }
      if (!Propagates(direction_, side_)) {
        // One way, the authoritative side's object is gone: its delete
        // (which failed or was refused) is caught up.
        if (!consumed_.empty() && Unchanged()) {
          Settle(false, {}, false);
          return EchoOrNoChange();
        }
        Intent i = NewIntent(side_, IntentOp::kDelete, change_.id, next_->dn);
        i.expect = ExpectOf(side_, next_->attrs, next_fields_);
        i.expected_version = builder_.seq;
        builder_.AddIntent(std::move(i));
        Settle(false, {}, false);
        return Verdict{"delete/catch-up", Outcome::kPropagated,
                       Subject() + " is linked to " + Partner(partner_id_, "") +
                           ", which is gone; direction " +
                           std::string(DirectionName(direction_)) +
                           " deletes it too"};
      }
      if (Unchanged() && !renamed) {
        Settle(false, {}, false);
        return EchoOrNoChange();
      }
      Recreate(other_, *next_, next_fields_);
      return Verdict{
          "create/" + std::string(FlowRule(side_)), Outcome::kPropagated,
          Subject() + " changed; its linked " + Partner(partner_id_, "") +
              " is missing and is created again"};
    }
    if (!Propagates(direction_, side_)) {
      if (builder_.rules.config().reconciler_rules >= 7)
        if (auto v = Replan()) return *std::move(v);
      if (Unchanged() && !renamed) {
        Settle(false, {}, false);
        return Quiet();
      }
      return Discard(true, true);
    }

    SideWrites to_other, to_self;
    std::vector<std::string> conflicts;
    const AttrList& agreed = link().agreed;
    const bool both = direction_ == Direction::kBothWays;
    for (const std::string& f : changed_) {
      if (IsMembers(f)) continue;  // below
      const auto& sv = AttrValues(next_fields_, f);
      if (sv == AttrValues(*partner_after_, f)) continue;
      if (both && partner_) {
        const auto& pv = AttrValues(partner_fields_, f);
        if (pv != AttrValues(agreed, f) && pv != sv) {
          conflicts.push_back(f);
          continue;
        }
      }
      to_other.Set(f, sv);
    }
    CatchUp(&to_other, &to_self, &conflicts);
    MergeMembers(&to_other, &to_self);
    const ConflictResolution res = connector_->config.conflict_resolution;
    Side winner = Side::kLdap;
    const bool resolves = !conflicts.empty() && Winner(res, &winner);
    for (const std::string& f : conflicts) {
      if (!resolves) break;
      if (winner == side_)
        to_other.Set(f, AttrValues(*self_after_, f));
      else
        to_self.Set(f, AttrValues(*partner_after_, f));
    }
    if (Unchanged() && !renamed && to_other.empty() && to_self.empty() &&
        conflicts.empty()) {
      Settle(false, {}, false);
      return Quiet();
    }

    std::vector<std::string> written_other = to_other.Names();
    // The new address is taken when another live entry's mail object has
    // it. A mail object there that is linked to nothing, or whose entry is
    // gone or maps elsewhere now, is on its way out (its rename or delete
    // is pending and goes first, in intent order).
    bool taken = false;
    if (renamed) {
      if (builder_.state.Object(Side::kMail, kind_, next_->address)) {
        const LinkState* holder =
            builder_.state.LinkByMail(kind_, next_->address);
        if (holder && holder->mail_id == next_->address &&
            holder->ldap_id != change_.id) {
          const ObjectState* entry =
              builder_.state.Object(Side::kLdap, kind_, holder->ldap_id);
          taken = entry && entry->address == next_->address;
        }
      }
    }
    // The Axigen connector does not rename (docs/axigen.md): since rules
    // version 3 no Rename is asked of it; the object keeps its address and
    // takes the field writes there, and the address stays as drift.
    const bool unrenamable =
        renamed && !taken && builder_.rules.config().reconciler_rules >= 3 &&
        builder_.rules.config().mail.kind == MailKind::kAxigen;
    if (unrenamable) taken = true;
    bool wrote_other = false, wrote_self = false;
    if (renamed && !taken) {
      WriteRename(to_other);
    } else if (!to_other.empty()) {
      wrote_other = WriteTo(other_, partner_id_, foreseen_, to_other);
    }
    if (!to_self.empty()) {
      Foreseen self;
      self.exists = true;
      self.Borrow(self_foreseen_ ? *self_foreseen_ : next_->attrs);
      self.dn = next_->dn;
      wrote_self = WriteTo(side_, change_.id, self, to_self);
    }
    if (!wrote_other) written_other.clear();
    const std::string old_mail_id = partner_id_;
    Settle(renamed && !taken, resolves ? std::vector<std::string>{} : conflicts,
           unrenamable);
    if (renamed && !taken)
      ReleaseAddressWaits(builder_, kind_, old_mail_id, nullptr, nullptr);

    std::string head =
        changed_.empty()
            ? Subject() + " " + std::string(ChangeOpName(change_.op))
            : Subject() + " changed " + JoinNames(changed_);
    if (renamed) head = Subject() + " renamed to address " + next_->address;
    if (unrenamable && conflicts.empty()) {
      return Verdict{
          "rename/not-renamable",
          written_other.empty() && to_self.empty() ? Outcome::kNoChange
                                                   : Outcome::kPropagated,
          head + "; the Axigen connector cannot rename a mail " +
              std::string(KindName(kind_)) + ", so " +
              Partner(partner_id_, foreseen_.dn) +
              " keeps its address (nothing renamed, no address added)" +
              (written_other.empty()
                   ? std::string()
                   : "; " + JoinNames(written_other) + " written to it")};
    }
    if (taken && conflicts.empty()) {
      return Verdict{
          "rename/address-taken",
          to_other.empty() && to_self.empty() ? Outcome::kNoChange
                                              : Outcome::kPropagated,
          head + ", which another mail " + std::string(KindName(kind_)) +
              " has: the rename is not made" +
              (written_other.empty()
                   ? std::string()
                   : "; " + JoinNames(written_other) + " written to " +
                         Partner(partner_id_, foreseen_.dn))};
    }
    if (!conflicts.empty()) {
      builder_.d->conflict_fields = conflicts;
      const std::string rule =
          "conflict/" + std::string(ConflictResolutionName(res));
      std::string merged;
      if (!written_other.empty() && !resolves)
        merged = "; " + JoinNames(written_other) + " written to " +
                 Partner(partner_id_, foreseen_.dn);
      if (!resolves) {
        return Verdict{rule, Outcome::kConflictOpen,
                       head + "; " + JoinNames(conflicts) +
                           " changed on both sides since they last agreed; "
                           "no_change: both kept, the conflict stays open" +
                           merged};
      }
      builder_.d->winner = winner;
      return Verdict{rule, Outcome::kConflictResolved,
                     head + "; " + JoinNames(conflicts) +
                         " changed on both sides since they last agreed; " +
                         std::string(ConflictResolutionName(res)) + ": the " +
                         std::string(SideTitle(winner)) +
                         " value is written to the " +
                         std::string(SideTitle(OtherSide(winner))) + " side"};
    }
    if (renamed)
      return Verdict{"rename/" + std::string(FlowRule(side_)),
                     Outcome::kPropagated,
                     head + "; renaming " + Partner(link().mail_id, "") +
                         (written_other.empty()
                              ? std::string()
                              : " and writing " + JoinNames(written_other))};
    const std::string caught =
        caught_up_.empty() ? std::string()
                           : "; " + JoinNames(caught_up_) +
                                 " differed since a write was refused or "
                                 "failed and are brought in line";
    if (wrote_other)
      return Verdict{
          "propagate/" + std::string(FlowRule(side_)), Outcome::kPropagated,
          head + "; written to " + Partner(partner_id_, foreseen_.dn) + caught};
    if (wrote_self)
      return Verdict{"propagate/catch-up", Outcome::kPropagated,
                     head + "; it takes " + JoinNames(to_self.Names()) +
                         " from " + Partner(partner_id_, foreseen_.dn) +
                         caught};
    return Verdict{"change/agrees", Outcome::kNoChange,
                   head + "; " + Partner(partner_id_, foreseen_.dn) +
                       " has these values already"};
  }

  // --- Catching up ---------------------------------------------------------

  // The fields a write to this side sets or changes values of, in field
  // names (LDAP attributes through the map; unmapped ones are left out).
  void WrittenFields(const Intent& i, std::vector<std::string>* out) const {
    auto field_of = [&](std::string_view name) -> std::string_view {
      if (i.target == Side::kMail) return name;
      if (EqualsIgnoreCase(name, map_->aliases_attribute))
        return field::kAliases;
      if (EqualsIgnoreCase(name, map_->members_attribute))
        return field::kMembers;
      return map_->FieldFor(name);
    };
    for (const AttrList* list : {&i.set, &i.add_values, &i.delete_values})
      for (const Attribute& a : *list) {
        const std::string_view f = field_of(a.name);
        if (!f.empty()) out->emplace_back(f);
      }
  }

  // One way, this (non-authoritative) side's change made a write of the
  // authoritative side's values impossible: its `expect` no longer holds,
  // so it was dropped (WalkPendings), the applier would refuse it. Since
  // rules version 7 it is planned again against this object's new image:
  // each field it wrote that still differs takes the authoritative side's
  // value (as foreseen), expecting this object's. The write was decided
  // before this change was seen, but both were made since the last run, in
  // an order not known: one way, the authoritative side's change of a
  // field wins, as it does over drift. The fields it did not write keep
  // this change (drift). Before, the write was dropped whole, and the
  // authoritative values came only with that side's next change. Returns
  // nothing when nothing is written again.
  std::optional<Verdict> Replan() {
    if (!next_ || !partner_) return std::nullopt;
    std::vector<std::string> fields;
    std::vector<const PendingIntent*> replanned;
    for (const PendingIntent* p : dropped_) {
      const Intent& i = p->intent;
      if (p->applied || i.target != side_ || i.op != IntentOp::kModify)
        continue;
      replanned.push_back(p);
      WrittenFields(i, &fields);
    }
    std::sort(fields.begin(), fields.end(),
              [](const std::string& a, const std::string& c) {
                return CompareIgnoreCase(a, c) < 0;
              });
    fields.erase(std::unique(fields.begin(), fields.end(),
                             [](const std::string& a, const std::string& c) {
                               return EqualsIgnoreCase(a, c);
                             }),
                 fields.end());
    SideWrites to_self;
    for (const std::string& f : fields) {
      const auto& now = AttrValues(*self_after_, f);
      const auto& there = AttrValues(*partner_after_, f);
      if (now == there) continue;
      if (IsMembers(f)) {
        to_self.add_members = Minus(there, now);
        to_self.del_members = Minus(now, there);
      } else {
        to_self.Set(f, there);
      }
    }
    if (to_self.empty()) return std::nullopt;
    Foreseen self;
    self.exists = true;
    self.Borrow(self_foreseen_ ? *self_foreseen_ : next_->attrs);
    self.dn = next_->dn;
    if (!WriteTo(side_, change_.id, self, to_self)) return std::nullopt;
    Settle(false, {}, true);
    std::string refs;
    for (const PendingIntent* p : replanned) {
      if (!refs.empty()) refs += ", ";
      refs += IntentName(p->intent.id);
    }
    const std::string what = changed_.empty()
                                 ? std::string(ChangeOpName(change_.op))
                                 : "change of " + JoinNames(changed_);
    return Verdict{"propagate/catch-up", Outcome::kPropagated,
                   Subject() + " " + what +
                       " recorded, not synced: direction " +
                       std::string(DirectionName(direction_)) + " takes no " +
                       std::string(SideTitle(side_)) + " changes; intent " +
                       refs + ", which it made impossible, is planned again: " +
                       JoinNames(to_self.Names()) + " of " +
                       Partner(partner_id_, foreseen_.dn) + " written again"};
  }

  // Fields this change did not touch can still differ: a write that was
  // refused (a concurrent edit) or failed leaves the sides apart. The side
  // that still holds the value both last agreed on has not changed it: it
  // takes the other side's value. Where both moved, it is a conflict.
  // (Values are taken as they will be once the intents pending on each
  // side are applied, so a write in flight is not made twice.)
  void CatchUp(SideWrites* to_other, SideWrites* to_self,
               std::vector<std::string>* conflicts) {
    const AttrList& agreed = link().agreed;
    const bool both = direction_ == Direction::kBothWays;
    auto listed = [](const std::vector<std::string>& v, const std::string& f) {
      for (const std::string& x : v)
        if (EqualsIgnoreCase(x, f)) return true;
      return false;
    };
    auto written = [&](const SideWrites& w, const std::string& f) {
      for (const Attribute& a : w.fields)
        if (EqualsIgnoreCase(a.name, f)) return true;
      return false;
    };
    Walk3(*self_after_, *partner_after_, agreed,
          [&](const std::string& f, const std::vector<std::string>& sv,
              const std::vector<std::string>& ov,
              const std::vector<std::string>& av) {
            if (sv == ov || IsMembers(f) || listed(changed_, f) ||
                listed(*conflicts, f) || written(*to_other, f) ||
                written(*to_self, f))
              return;
            if (ov == av) {
              to_other->Set(f, sv);  // this side's earlier change never came
              caught_up_.push_back(f);
            } else if (!both) {
              return;  // the other side drifted: direction keeps it
            } else if (sv == av) {
              to_self->Set(f, ov);  // the other side's change never came here
              caught_up_.push_back(f);
            } else {
              conflicts->push_back(f);
            }
          });
  }

  // Members: one way, the other side's become this side's when they
  // changed here (or when the other side still has the agreed ones); both
  // ways, a value-level merge of each side's additions and removals since
  // the members both last agreed on, never a conflict.
  void MergeMembers(SideWrites* to_other, SideWrites* to_self) {
    const std::string f(field::kMembers);
    const auto& now = AttrValues(*self_after_, f);
    const auto& there = AttrValues(*partner_after_, f);
    const auto& agreed = AttrValues(link().agreed, f);
    if (now == there) return;
    if (direction_ != Direction::kBothWays) {
      bool changed = false;
      for (const std::string& c : changed_)
        if (IsMembers(c)) changed = true;
      if (!changed && there != agreed) return;  // drift on the other side
      to_other->add_members = Minus(now, there);
      to_other->del_members = Minus(there, now);
      return;
    }
    const std::vector<std::string> base =
        builder_.rules.config().reconciler_rules >= 8
            ? PendingAgreedMembers(agreed)
            : agreed;
    std::vector<std::string> merged = base;
    for (const auto* side : {&now, &there})
      for (const std::string& m : Minus(*side, base)) merged.push_back(m);
    CanonicalizeValues(&merged);
    merged = Minus(merged, Minus(base, now));
    merged = Minus(merged, Minus(base, there));
    to_other->add_members = Minus(merged, there);
    to_other->del_members = Minus(there, merged);
    to_self->add_members = Minus(merged, now);
    to_self->del_members = Minus(now, merged);
  }

  // The members both sides will agree on once the writes pending on the
  // partner are applied. Such a write carries a merge already decided
  // (this side's earlier additions and removals, or the partner's own
  // taken back): once applied, both sides hold it. Merged against the
  // agreed members alone, a side's change made in the same run window as
  // an earlier one was undone: a member removed, put back and another
  // removed, or added and removed again, before the run (rules version 8;
  // before, the write in flight counted as the partner's change). Writes
  // pending on this object are in `now` already, and may be members the
  // partner's image cannot resolve yet (an LDAP DN whose entry is being
  // created): they are left out.
  std::vector<std::string> PendingAgreedMembers(
      const std::vector<std::string>& agreed) const {
    if (partner_after_ == &partner_fields_) return agreed;
    const std::string f(field::kMembers);
    const auto& was = AttrValues(partner_fields_, f);
    const auto& will = AttrValues(*partner_after_, f);
    std::vector<std::string> out = agreed;
    for (const std::string& m : Minus(will, was)) out.push_back(m);
    CanonicalizeValues(&out);
    return Minus(out, Minus(was, will));
  }

  // --- Address ownership (rules version 6) ----------------------------------

  // The entry's aliases its image leaves out (replay/address_ownership.h)
  // are its `refused_address` failure record, opened or replaced when they
  // change, dropped when there are none (or the entry is gone).
  void SettleRefusedAliases(Verdict* v) {
    if (side_ != Side::kLdap || !plan_ || !plan_->ownership().enforced) return;
    const FailureState* open = builder_.state.Failure(
        FailureKind::kRefusedAddress, Side::kLdap, change_.id);
    if (!next_ || (refused_.empty() && address_held_.empty())) {
      if (open)
        builder_.Put(EraseFailure{FailureKind::kRefusedAddress, Side::kLdap,
                                  change_.id});
      return;
    }
    std::string message;
    if (!address_held_.empty())
      message = AddressWaitMessage(next_->address, address_held_);
    if (!refused_.empty())
      message += (message.empty() ? "" : "; ") +
                 RefusalMessage(next_->address, refused_);
    v->reason += "; " + message;
    if (open && open->message == message) return;
    // A shorter list is the same failure, partly resolved: it keeps its id
    // (and is not a failure opened by this run); a new claim opens a new one.
    const bool shorter =
        open &&
        (address_held_.empty() || open->message.find(AddressWaitMessage(
                                      next_->address, address_held_)) == 0) &&
        std::all_of(refused_.begin(), refused_.end(), [&](auto& r) {
          return open->message.find(r.first + " (") != std::string::npos;
        });
    FailureState f;
    f.kind = FailureKind::kRefusedAddress;
    f.side = Side::kLdap;
    f.object_kind = kind_;
    f.object = change_.id;
    f.dn = next_->dn;
    f.domain = domain_name_;
    f.connector = connector_name_;
    f.source = change_.source;
    f.message = std::move(message);
    f.since_seq = shorter ? open->since_seq : builder_.seq;
    builder_.Put(PutFailure{std::move(f)});
  }

  // --- Writes ----------------------------------------------------------------

  Intent NewIntent(Side target, IntentOp op, std::string target_id,
                   std::string dn) {
    Intent i;
    i.target = target;
    i.kind = kind_;
    i.op = op;
    i.target_id = std::move(target_id);
    i.dn = std::move(dn);
    i.domain = domain_name_;
    i.connector = connector_name_;
    i.source_id = target == side_ ? partner_id_ : change_.id;
    return i;
  }

  // The LDAP DNs of member addresses. An address without one is left out;
  // when `mail_group` is given, that group waits for it (it is added once
  // its LDAP entry is known: ReleaseMemberWaits).
  std::vector<std::string> MemberDns(const std::vector<std::string>& addresses,
                                     const std::string& mail_group) {
    std::vector<std::string> dns;
    for (const std::string& a : addresses) {
      std::string dn = MemberDnOfAddress(
          a, &builder_.state, builder_.rules.config().reconciler_rules >= 10);
      if (!dn.empty()) {
        dns.push_back(std::move(dn));
        continue;
      }
      unresolved_.push_back(a);
      if (!mail_group.empty() && kind_ == ObjectKind::kGroup)
        builder_.Put(PutWait{Side::kMail, AsciiLower(a), mail_group});
    }
    CanonicalizeValues(&dns);
    return dns;
  }

  // Fills the attribute writes of `i` on `target` (its current values
  // `current`) from field writes.
  void FillWrites(Side target, const Foreseen& current, const SideWrites& w,
                  std::string_view own_address, Intent* i) {
    if (target == Side::kMail) {
      i->set = w.fields;
      CanonicalizeAttrs(&i->set);
      // An object's own address is never among its aliases: the entry's
      // aliases are relative to the entry's address, which differs from
      // the mail object's while a rename is not made (rules version 3).
      if (builder_.rules.config().reconciler_rules >= 3)
        DropOwnAlias(current, own_address, &i->set);
      for (const Attribute& a : i->set)
        i->expect.push_back(
            Attribute{a.name, AttrValues(current.attrs(), a.name)});
      CanonicalizeAttrs(&i->expect);
      if (!w.add_members.empty())
        i->add_values.push_back(
            Attribute{std::string(field::kMembers), w.add_members});
      if (!w.del_members.empty())
        i->delete_values.push_back(
            Attribute{std::string(field::kMembers), w.del_members});
      return;
    }
    LdapWrites(w.fields, *map_, current.attrs(), own_address, &i->set,
               &i->expect,
               RefusedAddresses(current.attrs(), current.dn, own_address,
                                *plan_, &builder_.state, i->target_id));
    if (map_->members_attribute.empty()) return;
    const std::string& mail_group =
        side_ == Side::kMail ? change_.id : link().mail_id;
    std::vector<std::string> adds = MemberDns(w.add_members, mail_group);
    std::vector<std::string> dels = MemberDns(w.del_members, "");
    // groupOfNames needs a member: the group itself stands in for none.
    AttrList after = current.attrs();
    Intent probe;
    probe.add_values.push_back(Attribute{map_->members_attribute, adds});
    probe.delete_values.push_back(Attribute{map_->members_attribute, dels});
    ApplyWrites(probe, &after);
    if (AttrValues(after, map_->members_attribute).empty() && !dels.empty() &&
        HasValueIgnoreCase(AttrValues(current.attrs(), "objectClass"),
                           "groupOfNames"))
      adds.push_back(current.dn);
    if (!adds.empty())
      i->add_values.push_back(Attribute{map_->members_attribute, adds});
    if (!dels.empty())
      i->delete_values.push_back(Attribute{map_->members_attribute, dels});
  }

  // Removes `own_address` from the aliases `set` writes to a mail object,
  // and the aliases write itself when what is left is what the object
  // holds.
  static void DropOwnAlias(const Foreseen& current,
                           std::string_view own_address, AttrList* set) {
    Attribute* a = FindAttr(set, field::kAliases);
    if (!a || own_address.empty()) return;
    std::erase_if(a->values, [&](const std::string& v) {
      return EqualsIgnoreCase(v, own_address);
    });
    if (a->values == AttrValues(current.attrs(), field::kAliases))
      set->erase(set->begin() + (a - set->data()));
  }

  // Returns whether there was anything to write.
  bool WriteTo(Side target, const std::string& target_id,
               const Foreseen& current, const SideWrites& w) {
    std::string own_address = target == Side::kMail ? target_id
                              : target == side_     ? next_->address
                              : partner_            ? partner_->address
                                                    : std::string();
    Intent i = NewIntent(target, IntentOp::kModify, target_id,
                         target == Side::kMail ? target_id : current.dn);
    FillWrites(target, current, w, own_address, &i);
    const ObjectState* obj = target == side_ ? nullptr : partner_;
    i.expected_version = target == side_ ? builder_.seq
                         : obj           ? obj->version
                                         : 0;
    if (i.set.empty() && i.add_values.empty() && i.delete_values.empty())
      return false;
    builder_.AddIntent(std::move(i));
    return true;
  }

  // The LDAP entry's address changed: the linked mail object is renamed to
  // follow it, and the link moves with it.
  // Since rules version 3 the field writes travel in the Rename itself, so
  // the object takes them at its new address in the same write (its aliases
  // are the entry's, which are relative to the new address). Before, they
  // went first in a Modify of the old address, where the old address, still
  // listed by the entry, became an alias of the object it names.
  void WriteRename(const SideWrites& w) {
    const bool carried = builder_.rules.config().reconciler_rules >= 3;
    if (!carried && !w.empty())
      WriteTo(Side::kMail, link().mail_id, foreseen_, w);
    Intent i = NewIntent(Side::kMail, IntentOp::kRename, next_->address,
                         link().mail_id);
    i.new_dn = next_->address;
    if (carried) FillWrites(Side::kMail, foreseen_, w, next_->address, &i);
    i.expected_version = partner_ ? partner_->version : 0;
    builder_.Id(i.dn);
    const std::uint64_t id = builder_.AddIntent(std::move(i));
    if (partner_) {
      ObjectState leaving = *partner_;
      leaving.leaving_intent = id;
      builder_.Put(PutObject{std::move(leaving)});
    }
    MutLink().mail_id = next_->address;
    builder_.d->link_ldap_id = link().ldap_id;
    builder_.d->link_mail_id = link().mail_id;
  }

  // A mail object whose Rename is still pending (not made) is reported
  // deleted, and no origin names the Rename: its administrator deleted it
  // before the rename could be made (the Rename, once made, is reported
  // with its origin, and its outcome is logged before the poll that sees
  // it). Since rules version 10 the delete is decided against the linked
  // entry, which keeps its link to the new address, as a delete of an
  // object the entry's rename (a change) was being written to: both ways a
  // delete against a modification, one way the object is created again at
  // the new address; the Rename, which would find neither address, is
  // dropped. Before, the delete was taken for the Rename's echo: the
  // Rename failed, its undoing linked the entry to the old address again,
  // and an entry that took that address next lost its account to a
  // second Rename of it.
  // The link a pending mail Rename `r` moved to its new address, when it
  // is still the renamed entry's; nullptr otherwise.
  const LinkState* RenamedLink(const Intent& r) {
    const LinkState* l = builder_.state.LinkByMail(kind_, r.target_id);
    if (!l || l->mail_id != r.target_id || l->ldap_id != r.source_id)
      return nullptr;
    return l;
  }

  std::optional<Verdict> DeletedBeforeRename() {
    const std::uint64_t leaving = Leaving(prev_);
    if (!leaving) return std::nullopt;
    const PendingIntent* p = builder_.state.Pending(leaving);
    if (!p || !IsMailRename(p->intent)) return std::nullopt;
    const LinkState* l = RenamedLink(p->intent);
    if (!l) return std::nullopt;
    rename_dropped_ = p;
    dropped_.push_back(p);
    link_src_ = l;
    return Linked();
  }

  // The mail object being renamed changed a field the pending Rename writes
  // (its administrator, since the Rename was decided): the Rename expects
  // the old value and would be refused. Since rules version 10 it is
  // planned again against the object's new values, each such field decided
  // as a change on both sides: the entry's value stays in the Rename where
  // LDAP wins (one way, ldap_wins); both ways, axigen_wins, the Rename
  // leaves it and the entry takes the mail value; no_change leaves both and
  // opens a conflict. The fields the Rename does not write travel with the
  // object, as before. Before, the Rename failed and the entry stayed apart
  // from its account until it changed again.
  std::optional<Verdict> ReplanRename() {
    const PendingIntent* p = builder_.state.Pending(Leaving(prev_));
    if (!p || !IsMailRename(p->intent) || !next_) return std::nullopt;
    const Intent& r = p->intent;
    std::vector<std::string> changed;
    for (const Attribute& a : r.expect)
      if (AttrValues(next_->attrs, a.name) != a.values)
        changed.push_back(a.name);
    if (changed.empty()) return std::nullopt;
    const LinkState* l = RenamedLink(r);
    if (!l || !builder_.state.Object(Side::kLdap, kind_, l->ldap_id))
      return std::nullopt;
    link_src_ = l;
    LoadPartner(l->ldap_id);
    if (!partner_) return std::nullopt;
    builder_.Id(r.target_id);
    builder_.Id(partner_->dn);
    const ConflictResolution res = connector_->config.conflict_resolution;
    Side winner = Side::kLdap;
    const bool both = direction_ == Direction::kBothWays;
    const bool resolves = !both || Winner(res, &winner);
    Intent again = r;
    again.set.clear();
    again.expect.clear();
    SideWrites to_ldap;
    std::vector<std::string> conflicts;
    for (const Attribute& a : r.set) {
      const auto& now = AttrValues(next_->attrs, a.name);
      const bool theirs = AttrValues(r.expect, a.name) != now;
      if (theirs && both && (!resolves || winner == Side::kMail)) {
        if (!resolves) {
          conflicts.push_back(a.name);
        } else if (now != AttrValues(partner_fields_, a.name)) {
          to_ldap.Set(a.name, now);
        }
        continue;
      }
      again.set.push_back(a);
      again.expect.push_back(Attribute{a.name, now});
    }
    CanonicalizeAttrs(&again.expect);
    again.expected_version = builder_.seq;
    const std::uint64_t id = builder_.AddIntent(std::move(again));
    dropped_.push_back(p);
    next_->leaving_intent = id;
    if (!to_ldap.empty()) WriteTo(other_, partner_id_, foreseen_, to_ldap);
    Settle(false, conflicts, false);
    const std::string head = Subject() + " changed " + JoinNames(changed) +
                             " while intent " + IntentName(r.id) +
                             " renamed it to " + r.target_id +
                             "; the rename is planned again, expecting its "
                             "new values";
    if (!conflicts.empty()) {
      builder_.d->conflict_fields = conflicts;
      return Verdict{"conflict/no_change", Outcome::kConflictOpen,
                     head + "; " + JoinNames(conflicts) +
                         " changed on both sides since they last agreed; "
                         "no_change: both kept, the conflict stays open"};
    }
    if (!to_ldap.empty())
      return Verdict{"conflict/" + std::string(ConflictResolutionName(res)),
                     Outcome::kConflictResolved,
                     head + "; " + JoinNames(to_ldap.Names()) +
                         " changed on both sides since they last agreed; " +
                         std::string(ConflictResolutionName(res)) +
                         ": the mail value is written to " +
                         Partner(partner_id_, foreseen_.dn)};
    return Verdict{"rename/replanned", Outcome::kPropagated, head};
  }

  // --- Unlinked objects ------------------------------------------------------

  // A mail object whose Rename to another address is still pending: that
  // intent's id, else 0.
  std::uint64_t Leaving(const ObjectState* o) {
    if (!o || o->side != Side::kMail || o->leaving_intent == 0) return 0;
    const PendingIntent* p = builder_.state.Pending(o->leaving_intent);
    return p && !p->applied ? o->leaving_intent : 0;
  }

  Verdict Unlinked() {
    const std::uint64_t creating = next_   ? next_->creating_intent
                                   : prev_ ? prev_->creating_intent
                                           : 0;
    if (side_ == Side::kMail && creating != 0) {
      const PendingIntent* p = builder_.state.Pending(creating);
      if (p && !p->applied && Propagates(direction_, side_))
        return WhileCreating(*p);
      if (next_) next_->creating_intent = 0;
    }
    // Since rules version 7 a mail object added again while the entry made
    // for it before its delete is still being created meets that entry:
    // it is the object the entry is created for again, and the add's
    // outcome writes what differs by then (before, it was created a second
    // time: an Add the server refuses, the entry being there).
    if (side_ == Side::kMail && creating == 0 && next_ && !prev_ &&
        builder_.rules.config().reconciler_rules >= 7)
      if (const PendingIntent* p =
              TakeCreatingWait(builder_, kind_, change_.id))
        if (Propagates(direction_, side_)) return WhileCreating(*p, true);
    if (!next_) {
      if (!consumed_.empty()) return EchoOrNoChange();
      return Verdict{"delete/unlinked", Outcome::kNoChange,
                     Subject() +
                         " deleted; it is linked to nothing, so "
                         "there is nothing to propagate"};
    }
    // Does the other side have an object with this address?
    const std::string* pid =
        side_ == Side::kLdap
            ? (next_->address.empty() ? nullptr
                                      : builder_.state.IdByAddress(
                                            Side::kMail, kind_, next_->address))
            : builder_.state.IdByAddress(Side::kLdap, kind_, change_.id);
    if (pid) {
      const std::string partner_id = *pid;
      const ObjectState* p = builder_.state.Object(other_, kind_, partner_id);
      if (p) {
        const LinkState* other =
            other_ == Side::kMail
                ? builder_.state.LinkByMail(kind_, partner_id)
                : builder_.state.LinkByLdap(kind_, partner_id);
        if (other && (other_ == Side::kLdap || other->mail_id == partner_id)) {
          builder_.Id(partner_id);
          const std::string& old_self =
              side_ == Side::kLdap ? other->ldap_id : other->mail_id;
          if (builder_.state.Object(side_, kind_, old_self)) {
            if (side_ == Side::kLdap)
              builder_.Put(PutWait{Side::kLdap,
                                   AddressWaitKey(kind_, next_->address),
                                   change_.id});
            return Verdict{"link/address-taken", Outcome::kError,
                           Subject() + " maps to " + next_->address +
                               ", whose " + Partner(partner_id, p->dn) +
                               " is linked to another object; it takes the "
                               "address once that object lets go"};
          }
          // The object it was linked to on this side is gone: the link
          // yields to this one.
          builder_.Id(old_self);
          builder_.Put(EraseLink{kind_, other->ldap_id, other->mail_id});
          if (builder_.state.Conflict(kind_, other->ldap_id))
            builder_.Put(EraseConflict{kind_, other->ldap_id});
          if (builder_.state.Drift(kind_, other->ldap_id))
            builder_.Put(EraseDrift{kind_, other->ldap_id});
        }
        LoadPartner(partner_id);
        // A partner about to be deleted or renamed away is no partner: the
        // new object is created after it is gone.
        if (foreseen_.exists && !Leaving(partner_))
          return FirstMeet(partner_id);
        partner_ = nullptr;
        partner_id_.clear();
      }
    }
    if (Unchanged() && !consumed_.empty()) return EchoOrNoChange();
    if (AsWritten()) return EchoOrNoChange();
    if (!Propagates(direction_, side_)) return Discard(false, false);
    if (side_ == Side::kLdap) return CreateOnMail();
    return CreateOnLdap();
  }

  // Rules version 11: the object is exactly what the writes this
  // observation consumes made of it, DN included: nobody else changed it.
  // Its images may differ all the same (a rollback renaming back an entry
  // whose mail object it deleted: the address moves with the name), which
  // an unlinked object took for a change to create its counterpart from,
  // although at the point it had none.
  bool AsWritten() const {
    if (consumed_.empty() || !next_ || !prev_exists_ ||
        builder_.rules.config().reconciler_rules < 11)
      return false;
    std::string dn = prev_ ? prev_->dn : "";
    for (const PendingIntent* p : consumed_)
      if (p->intent.op == IntentOp::kRename) dn = p->intent.new_dn;
    AttrList was = eff_prev_.attrs();
    CanonicalizeAttrs(&was);
    return NormalizeDn(dn) == NormalizeDn(next_->dn) && was == next_->attrs;
  }

  Verdict CreateOnMail() {
    if (next_->address.empty())
      return Verdict{"create/no-address", Outcome::kError,
                     Subject() + " has no " + map_->name_attribute +
                         " value, so it maps to no mail address; not synced"};
    const std::string& address = next_->address;
    // Rules version 7: an address another mail object holds as an alias is
    // not made (the mail directory would refuse the whole write); the entry
    // waits until that alias is let go (ReleaseAliasWaits).
    if (plan_->ownership().aliases_held) {
      const std::string key = AliasWaitKey(kind_, address);
      for (ObjectKind k : {ObjectKind::kAccount, ObjectKind::kGroup}) {
        const std::vector<std::string> holders =
            builder_.state.IdsByAlias(k, address);
        if (holders.empty()) continue;
        builder_.Put(PutWait{Side::kLdap, key, change_.id});
        builder_.Id(holders.front());
        address_held_ = "it is an alias of mail " + std::string(KindName(k)) +
                        " " + holders.front();
        return Verdict{"create/address-aliased", Outcome::kError,
                       Subject() + " maps to " + address + ", which mail " +
                           std::string(KindName(k)) + " " + holders.front() +
                           " holds as an alias; it is created once that "
                           "alias is let go"};
      }
      for (const std::string& w : builder_.state.WaitingFor(Side::kLdap, key))
        if (w == change_.id)
          builder_.Put(EraseWait{Side::kLdap, key, change_.id});
    }
    Intent i = NewIntent(Side::kMail, IntentOp::kAdd, address, address);
    i.set = next_fields_;
    builder_.AddIntent(std::move(i));
    LinkState l;
    l.kind = kind_;
    l.ldap_id = change_.id;
    l.mail_id = address;
    l.domain = domain_name_;
    l.connector = connector_name_;
    l.version = builder_.seq;
    builder_.Put(PutLink{std::move(l)});
    builder_.d->link_ldap_id = change_.id;
    builder_.d->link_mail_id = address;
    builder_.Id(address);
    ReleaseMemberWaits(builder_, next_->dn, address);
    return Verdict{"create/ldap-to-mail", Outcome::kPropagated,
                   Subject() + " has no mail counterpart; creating mail " +
                       std::string(KindName(kind_)) + " " + address};
  }

  Verdict CreateOnLdap() {
    std::vector<std::string> dns =
        MemberDns(AttrValues(next_fields_, field::kMembers), change_.id);
    const size_t at = change_.id.find('@');
    NewEntry e = NewLdapEntry(*connector_, kind_, change_.id.substr(0, at),
                              domain_name_, next_fields_, dns);
    Intent i = NewIntent(Side::kLdap, IntentOp::kAdd, "", e.dn);
    i.set = std::move(e.attrs);
    builder_.Id(i.dn);
    const std::string dn = i.dn;
    next_->creating_intent = builder_.AddIntent(std::move(i));
    ReleaseMemberWaits(builder_, dn, change_.id);
    return Verdict{"create/mail-to-ldap", Outcome::kPropagated,
                   Subject() + " has no LDAP counterpart; creating " +
                       Describe(Side::kLdap, kind_, "", dn)};
  }

  // The LDAP entry for this mail object is still being created: later
  // changes are written to it by DN, after the add.
  // `again`: the object was deleted, and is added again, while the entry
  // is being created (rules version 7).
  Verdict WhileCreating(const PendingIntent& add, bool again = false) {
    builder_.Id(add.intent.dn);
    const std::string entry = Describe(Side::kLdap, kind_, "", add.intent.dn);
    if (!next_) {
      // Since rules version 7 the address keeps the entry's Add, so that
      // the object added again before it is done meets it.
      if (builder_.rules.config().reconciler_rules >= 7)
        builder_.Put(PutWait{Side::kMail, CreatingWaitKey(kind_, change_.id),
                             std::to_string(add.intent.id)});
      return Verdict{"create/pending", Outcome::kNoChange,
                     Subject() + " deleted while " + entry +
                         " is being created; the entry is deleted once its "
                         "add is done"};
    }
    next_->creating_intent = add.intent.id;
    if (again)
      return Verdict{"create/pending", Outcome::kNoChange,
                     Subject() + " added again while " + entry +
                         ", created for it before its delete, is being "
                         "created; no second entry: it is the entry's "
                         "object again, and what differs is written once "
                         "its add is done (the delete is not carried out)"};
    return Verdict{"create/pending", Outcome::kNoChange,
                   Subject() + " " + std::string(ChangeOpName(change_.op)) +
                       " recorded while " + entry +
                       " is being created; what differs is written once "
                       "its add is done"};
  }

  // REQUIRES: LoadPartner(partner_id).
  Verdict FirstMeet(const std::string& partner_id) {
    builder_.Id(partner_id);
    if (partner_) builder_.Id(partner_->dn);
    MutLink() = LinkState{};
    MutLink().kind = kind_;
    MutLink().ldap_id = side_ == Side::kLdap ? change_.id : partner_id;
    MutLink().mail_id = side_ == Side::kMail ? change_.id : partner_id;
    MutLink().domain = domain_name_;
    MutLink().connector = connector_name_;
    MutLink().version = builder_.seq;
    builder_.d->link_ldap_id = link().ldap_id;
    builder_.d->link_mail_id = link().mail_id;
    if (next_) next_->creating_intent = 0;
    ReleaseMemberWaits(builder_,
                       side_ == Side::kLdap ? next_->dn : partner_->dn,
                       link().mail_id);

    const AttrList& ldap =
        side_ == Side::kLdap ? next_fields_ : partner_fields_;
    const AttrList& mail =
        side_ == Side::kMail ? next_fields_ : partner_fields_;
    SideWrites to_ldap, to_mail;
    std::vector<std::string> conflicts;
    Side winner = Side::kLdap;
    const ConflictResolution res = connector_->config.conflict_resolution;
    const bool both = direction_ == Direction::kBothWays;
    const Side auth =
        direction_ == Direction::kAxigenToLdap ? Side::kMail : Side::kLdap;
    for (const std::string& f : DiffFields(ldap, mail)) {
      const auto& lv = AttrValues(ldap, f);
      const auto& mv = AttrValues(mail, f);
      if (IsMembers(f)) {
        if (both || auth == Side::kLdap) {
          to_mail.add_members = Minus(lv, mv);
          if (!both) to_mail.del_members = Minus(mv, lv);
        }
        if (both || auth == Side::kMail) {
          to_ldap.add_members = Minus(mv, lv);
          if (!both) to_ldap.del_members = Minus(lv, mv);
        }
        continue;
      }
      if (!both) {
        (auth == Side::kLdap ? to_mail : to_ldap)
            .Set(f, auth == Side::kLdap ? lv : mv);
      } else if (lv.empty()) {
        to_ldap.Set(f, mv);
      } else if (mv.empty()) {
        to_mail.Set(f, lv);
      } else {
        conflicts.push_back(f);
        if (Winner(res, &winner))
          (winner == Side::kLdap ? to_mail : to_ldap)
              .Set(f, winner == Side::kLdap ? lv : mv);
      }
    }
    const bool resolves = !conflicts.empty() && Winner(res, &winner);
    Foreseen self;
    self.exists = true;
    self.Borrow(next_->attrs);
    self.dn = next_->dn;
    const std::string ldap_id = link().ldap_id, mail_id = link().mail_id;
    const Foreseen& ldap_now = side_ == Side::kLdap ? self : foreseen_;
    const Foreseen& mail_now = side_ == Side::kMail ? self : foreseen_;
    if (!to_ldap.empty()) WriteTo(Side::kLdap, ldap_id, ldap_now, to_ldap);
    if (!to_mail.empty()) WriteTo(Side::kMail, mail_id, mail_now, to_mail);
    Settle(true, resolves ? std::vector<std::string>{} : conflicts, false);

    const std::string head = Subject() + " and " +
                             Partner(partner_id, partner_ ? partner_->dn : "") +
                             " have the same address and are now linked";
    if (!conflicts.empty()) {
      builder_.d->conflict_fields = conflicts;
      if (!resolves)
        return Verdict{"link/first-meet", Outcome::kConflictOpen,
                       head + "; they differ on " + JoinNames(conflicts) +
                           "; no_change: both kept, the conflict stays open"};
      builder_.d->winner = winner;
      return Verdict{"link/first-meet", Outcome::kConflictResolved,
                     head + "; they differ on " + JoinNames(conflicts) + "; " +
                         std::string(ConflictResolutionName(res)) + ": the " +
                         std::string(SideTitle(winner)) +
                         " values are written"};
    }
    if (!to_ldap.empty() || !to_mail.empty()) {
      std::vector<std::string> names = to_ldap.Names();
      for (std::string& n : to_mail.Names()) names.push_back(std::move(n));
      std::sort(names.begin(), names.end());
      names.erase(std::unique(names.begin(), names.end()), names.end());
      return Verdict{"link/first-meet", Outcome::kPropagated,
                     head + "; " + JoinNames(names) + " brought in line"};
    }
    return Verdict{"link/first-meet", Outcome::kNoChange,
                   head + "; they agree on every synced field"};
  }

  // --- State ---------------------------------------------------------------

  DecisionBuilder& builder_;
  const ObservedChange& change_;
  // Storage of the field images below (declared first: built first).
  ImagePool::Lease prev_image_{&builder_.images}, next_image_{&builder_.images},
      self_foreseen_image_{&builder_.images}, partner_image_{&builder_.images},
      foreseen_image_{&builder_.images};
  const Side side_, other_;
  const ObjectKind kind_;
  const std::string domain_name_;
  const DomainConfig* domain_ = nullptr;
  std::string connector_name_;
  const ConnectorRules* connector_ = nullptr;
  const ObjectMap* map_ = nullptr;
  const ImagePlan* plan_ = nullptr;
  Direction direction_ = Direction::kLdapToAxigen;

  const ObjectState* prev_ = nullptr;
  std::optional<ObjectState> next_;  // nullopt: deleted
  std::vector<const PendingIntent*> consumed_, dropped_;
  // Applied after the write this observation reports (TakeAhead).
  std::vector<const PendingIntent*> ahead_;
  bool prev_exists_ = false;
  std::optional<AttrList> self_foreseen_;  // set when intents are pending
  Foreseen eff_prev_;  // prev_ with the consumed writes in it
  const AttrList& prev_fields_ = prev_image_.list();
  const AttrList& next_fields_ = next_image_.list();
  std::vector<std::string> changed_;
  bool existence_changed_ = false;
  std::vector<std::string> unresolved_;
  std::vector<std::string> left_groups_;  // DNs of the groups it left
  std::vector<std::string> renamed_in_;   // DNs of the groups it was renamed in
  std::string recreated_dn_;  // a deleted LDAP entry's new entry's DN
  RefusedAliases refused_;    // of the entry's new image
  // Rules version 7: why the entry's own address is not made yet (another
  // mail object holds it as an alias); "" when it is not held.
  std::string address_held_;
  std::vector<std::string> caught_up_;
  // This object with the intents pending on it.
  const AttrList& self_foreseen_fields_ = self_foreseen_image_.list();
  // This object's fields as they will be: as observed, or with the intents
  // still pending on it (self_foreseen_fields_).
  const AttrList* self_after_ = &next_fields_;

  // The link: the projection's record, copied when this decision changes it.
  const LinkState& link() const { return link_own_ ? *link_own_ : *link_src_; }
  LinkState& MutLink() {
    if (!link_own_) link_own_ = link_src_ ? *link_src_ : LinkState{};
    return *link_own_;
  }
  const LinkState* link_src_ = nullptr;
  // The pending Rename of this (deleted) object that is dropped (rules
  // version 10: DeletedBeforeRename).
  const PendingIntent* rename_dropped_ = nullptr;
  std::optional<LinkState> link_own_;
  bool linked_after_ = false;  // the object is linked after this decision
  std::string partner_id_;
  const ObjectState* partner_ = nullptr;
  const AttrList& partner_fields_ = partner_image_.list();
  Foreseen foreseen_;
  // When intents are pending on the partner.
  const AttrList& foreseen_fields_ = foreseen_image_.list();
  // The partner's fields as they will be (foreseen_fields_), or as they
  // are when it is not moving (partner_fields_).
  const AttrList* partner_after_ = &foreseen_fields_;
};

}  // namespace

Verdict DecideChange(DecisionBuilder& b, const ObservedChange& change) {
  return ChangeDecider(b, change).Decide();
}

}  // namespace dirledger

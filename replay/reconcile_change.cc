// ChangeDecider's first steps (reconcile_change.h): the change in scope or
// not, the object's new state written, and the dispatch to the linked or
// unlinked rules.
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

Verdict ChangeDecider::Decide() {
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
    v.reason +=
        "; members left out (no counterpart known): " + JoinNames(unresolved_);
  }
  return v;
}

std::string ChangeDecider::Subject() const {
  return Describe(side_, kind_, change_.id,
                  !change_.dn.empty() ? std::string_view(change_.dn)
                  : prev_             ? std::string_view(prev_->dn)
                                      : std::string_view());
}

Verdict ChangeDecider::DomainOff() {
  return Skip("scope/domain-off", Outcome::kSkippedDomainOff,
              "domain " + domain_->name + " has ldap_sync = false");
}

Verdict ChangeDecider::Present() {
  if (prev_)
    return Verdict{"change/present", Outcome::kNoChange,
                   Subject() + " was reported present and unchanged"};
  return Verdict{"change/present", Outcome::kNoChange,
                 Subject() +
                     " was reported present but is not known; "
                     "nothing is recorded until its image arrives"};
}

std::string ChangeDecider::LdapAddress(const AttrList& attrs) const {
  if (!map_) return "";
  std::string_view name = FirstValue(attrs, map_->name_attribute);
  if (name.empty() || domain_name_.empty()) return "";
  return AsciiLower(name) + "@" + domain_name_;
}

void ChangeDecider::BuildNext() {
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

Verdict ChangeDecider::Skip(std::string rule, Outcome outcome,
                            const std::string& why) {
  PutSelf();
  return Verdict{std::move(rule), outcome,
                 Subject() + " " + std::string(ChangeOpName(change_.op)) +
                     " recorded, not synced: " + why + LeftGroups()};
}

std::string ChangeDecider::LeftGroups() const {
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

bool ChangeDecider::FollowsRemains() const {
  return change_.op == ChangeOp::kDelete && !change_.remains_at.empty() &&
         builder_.rules.config().reconciler_rules >= 11;
}

void ChangeDecider::PutSelf() {
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
      if (next_ && (!prev_ || !SameDn(prev_->dn, next_->dn)))
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
        !SameDn(prev_->dn, next_->dn))
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

Verdict ChangeDecider::DecideInScope() {
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
      return Verdict{"echo/rename", Outcome::kEcho,
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

void ChangeDecider::LoadPartner(const std::string& id) {
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

}  // namespace change_rules

Verdict DecideChange(DecisionBuilder& b, const ObservedChange& change) {
  return change_rules::ChangeDecider(b, change).Decide();
}

}  // namespace dirledger

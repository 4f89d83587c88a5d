// ChangeDecider: an object not linked yet: created on the other side,
// met with an object found there, or waiting for an Add in flight.
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

std::uint64_t ChangeDecider::Leaving(const ObjectState* o) {
  if (!o || o->side != Side::kMail || o->leaving_intent == 0) return 0;
  const PendingIntent* p = builder_.state.Pending(o->leaving_intent);
  return p && !p->applied ? o->leaving_intent : 0;
}

Verdict ChangeDecider::Unlinked() {
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
    if (const PendingIntent* p = TakeCreatingWait(builder_, kind_, change_.id))
      if (Propagates(direction_, side_)) return WhileCreating(*p, true);
  if (!next_) {
    if (!consumed_.empty()) return EchoOrNoChange();
    return Verdict{"delete/unlinked", Outcome::kNoChange,
                   Subject() +
                       " deleted; it is linked to nothing, so "
                       "there is nothing to propagate"};
  }
  // Does the other side have an object with this address?
  const std::string_view* pid =
      side_ == Side::kLdap
          ? (next_->address.empty() ? nullptr
                                    : builder_.state.IdByAddress(
                                          Side::kMail, kind_, next_->address))
          : builder_.state.IdByAddress(Side::kLdap, kind_, change_.id);
  if (pid) {
    const std::string partner_id(*pid);
    const ObjectState* p = builder_.state.Object(other_, kind_, partner_id);
    if (p) {
      const LinkState* other =
          other_ == Side::kMail ? builder_.state.LinkByMail(kind_, partner_id)
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
                         Subject() + " maps to " + next_->address + ", whose " +
                             Partner(partner_id, p->dn) +
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
      if (foreseen_.exists && !Leaving(partner_)) return FirstMeet(partner_id);
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

bool ChangeDecider::AsWritten() const {
  if (consumed_.empty() || !next_ || !prev_exists_ ||
      builder_.rules.config().reconciler_rules < 11)
    return false;
  std::string dn = prev_ ? prev_->dn : "";
  for (const PendingIntent* p : consumed_)
    if (p->intent.op == IntentOp::kRename) dn = p->intent.new_dn;
  AttrList was = eff_prev_.attrs();
  CanonicalizeAttrs(&was);
  return SameDn(dn, next_->dn) && was == next_->attrs;
}

Verdict ChangeDecider::CreateOnMail() {
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

Verdict ChangeDecider::CreateOnLdap() {
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

Verdict ChangeDecider::WhileCreating(const PendingIntent& add, bool again) {
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

Verdict ChangeDecider::FirstMeet(const std::string& partner_id) {
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
  ReleaseMemberWaits(builder_, side_ == Side::kLdap ? next_->dn : partner_->dn,
                     link().mail_id);

  const AttrList& ldap = side_ == Side::kLdap ? next_fields_ : partner_fields_;
  const AttrList& mail = side_ == Side::kMail ? next_fields_ : partner_fields_;
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
                       std::string(SideTitle(winner)) + " values are written"};
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

}  // namespace change_rules
}  // namespace dirledger

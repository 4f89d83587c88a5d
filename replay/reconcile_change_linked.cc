// ChangeDecider: a linked object changed or was deleted; direction,
// conflicts, deletes against modifications, re-creation of a partner gone.
#include "replay/reconcile_change.h"

namespace dirledger {
namespace change_rules {

Verdict ChangeDecider::Linked() {
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

bool ChangeDecider::FoundInPlace() const {
  if (builder_.rules.config().reconciler_rules < 5 || !partner_ ||
      !foreseen_.exists || Propagates(direction_, side_) || !consumed_.empty())
    return false;
  for (const PendingIntent* p : dropped_)
    if (p->intent.op == IntentOp::kAdd && p->intent.target == side_ &&
        !p->applied)
      return true;
  return false;
}

LinkSides ChangeDecider::Sides() const {
  LinkSides sides;
  const AttrList* self = next_ ? &next_fields_ : nullptr;
  const AttrList* other = partner_ ? &partner_fields_ : nullptr;
  sides.ldap = side_ == Side::kLdap ? self : other;
  sides.mail = side_ == Side::kMail ? self : other;
  if (side_ == Side::kLdap && next_) sides.ldap_address = next_->address;
  if (other_ == Side::kLdap && partner_) sides.ldap_address = partner_->address;
  return sides;
}

void ChangeDecider::Settle(bool link_changed,
                           const std::vector<std::string>& opened,
                           bool create_drift) {
  SettleLink(builder_, connector_, link(), link_changed, Sides(), opened,
             create_drift);
}

Verdict ChangeDecider::Discard(bool linked, bool drift) {
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

Verdict ChangeDecider::LinkedDelete() {
  if (!consumed_.empty()) {
    Settle(false, {}, false);
    return EchoOrNoChange();
  }
  if (!prev_exists_)
    return Verdict{"delete/unknown", Outcome::kNoChange,
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

Verdict ChangeDecider::DeleteSelf(std::string reason) {
  Intent i = NewIntent(side_, IntentOp::kDelete, change_.id, next_->dn);
  i.expect = ExpectOf(side_, next_->attrs, next_fields_);
  i.expected_version = builder_.seq;
  builder_.AddIntent(std::move(i));
  Settle(false, {}, false);
  return Verdict{"delete/catch-up", Outcome::kPropagated, std::move(reason)};
}

void ChangeDecider::DeletePartner() {
  Intent i = NewIntent(other_, IntentOp::kDelete, partner_id_, foreseen_.dn);
  i.expect = ExpectOf(other_, foreseen_.attrs(), *partner_after_);
  i.expected_version = partner_ ? partner_->version : 0;
  builder_.AddIntent(std::move(i));
}

AttrList ChangeDecider::ExpectOf(Side side, const AttrList& attrs,
                                 const AttrList& image) {
  AttrList expect;
  if (side == Side::kMail) {
    for (const Attribute& a : image)
      if (!IsMembers(a.name))
        expect.push_back(Attribute{a.name, AttrValues(attrs, a.name)});
  } else {
    for (const FieldMapping& f : map_->fields)
      expect.push_back(Attribute{f.attribute, AttrValues(attrs, f.attribute)});
    if (!map_->aliases_attribute.empty())
      expect.push_back(Attribute{map_->aliases_attribute,
                                 AttrValues(attrs, map_->aliases_attribute)});
  }
  CanonicalizeAttrs(&expect);
  return expect;
}

Verdict ChangeDecider::DeleteVsModify(Side deleter,
                                      std::vector<std::string> modified) {
  const ConflictResolution res = connector_->config.conflict_resolution;
  std::vector<std::string> fields = modified;
  fields.push_back("exists");
  builder_.d->conflict_fields = fields;
  const std::string rule =
      "conflict/delete-modify/" + std::string(ConflictResolutionName(res));
  const std::string head =
      Subject() +
      (deleter == side_
           ? " deleted while its linked " + Partner(partner_id_, foreseen_.dn) +
                 " changed " + JoinNames(modified)
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

std::string ChangeDecider::DroppedWritesOfPartner() const {
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

bool ChangeDecider::DeletedForThisSide() const {
  std::vector<const PendingIntent*> pending;
  builder_.state.PendingFor(other_, kind_, partner_id_, &pending);
  return std::any_of(pending.begin(), pending.end(),
                     [&](const PendingIntent* p) {
                       return p->intent.op == IntentOp::kDelete &&
                              p->intent.source_id == change_.id;
                     });
}

void ChangeDecider::Recreate(Side side, const ObjectState& source,
                             const AttrList& image) {
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

Verdict ChangeDecider::LinkedUpdate() {
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
        return DeleteSelf(Subject() + " has not changed since its linked " +
                          Partner(partner_id_, "") +
                          " was deleted; it is deleted too");
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
      return DeleteSelf(
          Subject() + " is linked to " + Partner(partner_id_, "") +
          ", which is gone; direction " +
          std::string(DirectionName(direction_)) + " deletes it too");
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
      changed_.empty() ? Subject() + " " + std::string(ChangeOpName(change_.op))
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
    return Verdict{"rename/address-taken",
                   to_other.empty() && to_self.empty() ? Outcome::kNoChange
                                                       : Outcome::kPropagated,
                   head + ", which another mail " +
                       std::string(KindName(kind_)) +
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
  const std::string caught = caught_up_.empty()
                                 ? std::string()
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
                       " from " + Partner(partner_id_, foreseen_.dn) + caught};
  return Verdict{"change/agrees", Outcome::kNoChange,
                 head + "; " + Partner(partner_id_, foreseen_.dn) +
                     " has these values already"};
}

}  // namespace change_rules
}  // namespace dirledger

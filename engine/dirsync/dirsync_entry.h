// DirSyncEntry and DirSyncEntryMapper: what one DirSync search result entry
// means for dirledger. DirSync returns, for each object that changed since
// the cookie, only the requested attributes that changed (all of them on a
// pass without cookie, or for an object created since the cookie), linked
// attributes as value additions and removals (with
// LDAP_DIRSYNC_INCREMENTAL_VALUES: "member;range=1-1" added,
// "member;range=0-0" removed), a cleared attribute as an attribute without
// values, and a deleted object as its tombstone (isDeleted: TRUE, DN under
// CN=Deleted Objects, same objectGUID). The mapper turns an entry, with what
// the log knows of the object, into an ObservedChange, an ObjectError, or
// nothing, keyed by objectGUID, never by DN.
//
// Scope is decided here, not by the server: DirSync must search the whole
// naming context, so entries outside the connector's account and group base
// DNs are skipped (or, for an object the log knows, reported deleted: it
// left the scope). A partial entry is classified on the known image with the
// changes applied; a partial entry of an object the log does not know (moved
// into the scope, undeleted) needs the full object read first, when its DN is
// under a base DN at all.
//
// Thread safety: DirSyncEntryMapper is immutable after construction.
#ifndef DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_ENTRY_H_
#define DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_ENTRY_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/event.h"
#include "codecs/projection.h"
#include "replay/rules.h"

namespace dirledger {

struct DirSyncEntry {
  std::string dn;
  std::string guid;     // GUID string; "" when absent or not 16 bytes
  AttrList attrs;       // replacements; no values = the attribute was cleared
  AttrList value_adds;  // linked values added
  AttrList value_deletes;   // linked values removed
  bool is_deleted = false;  // a tombstone
  bool created = false;     // whenCreated changed: created since the cookie
};

// Adds one attribute of a search result entry, by its attribute
// description: "member;range=1-1" values are additions, "member;range=0-0"
// removals, objectGUID / isDeleted / whenCreated set the entry's fields, any
// other option (";binary", a range retrieval) is dropped from the name.
void AddEntryAttribute(DirSyncEntry* entry, std::string_view description,
                       std::vector<std::string> values);

// The attributes a DirSync search of `map` requests: the mapped ones and
// those the source needs (objectGUID, isDeleted, whenCreated, name: a rename
// or move changes only "name").
std::vector<std::string> DirSyncSearchAttributes(const AttributeMap& map,
                                                 bool group_sync);

// The search filter: entries of the mapped account classes (minus excluded
// classes), and of the group classes when groups are synced.
std::string DirSyncSearchFilter(const AttributeMap& map, bool group_sync);

// Whether `name` can be the local part of a mail address as dirledger
// writes it: 1..64 of letters, digits and !#$%&'*+-/=?^_`{|}~. with no
// leading, trailing or doubled dot.
bool IsValidMailName(std::string_view name);

struct EntryDecision {
  enum class Action {
    kSkip,           // not ours (out of scope, unknown tombstone)
    kChange,         // `change` is the event
    kError,          // `error` is the event
    kNeedFullImage,  // read the whole object and map again with full=true
  };
  Action action = Action::kSkip;
  bool in_scope = false;  // an object of ours that exists (present phase)
  ObservedChange change;
  ObjectError error;
};

class DirSyncEntryMapper {
 public:
  // REQUIRES: `rules` has a connector named `connector`.
  DirSyncEntryMapper(std::shared_ptr<const RuleSet> rules,
                     std::string connector, std::string source);

  // `full`: the entry holds every requested attribute (a pass without
  // cookie, a created object, an object read whole). `known`: the log's
  // image of the object with this objectGUID, if any.
  EntryDecision Map(const DirSyncEntry& entry, bool full,
                    const std::optional<ObjectState>& known) const;

  const ConnectorRules& connector() const { return *connector_; }

 private:
  ObservedChange BaseChange(const DirSyncEntry& entry) const;
  // Whether `dn` lies under an account or group base DN of the connector.
  bool UnderSomeBase(std::string_view dn) const;
  // Keeps only mapped attributes, under the map's spelling.
  AttrList Mapped(const AttrList& attrs, bool keep_empty) const;
  std::optional<std::string> Invalid(const Classification& c,
                                     const AttrList& image,
                                     const ObservedChange& change) const;

  std::shared_ptr<const RuleSet> rules_;
  const ConnectorRules* connector_;
  std::string source_;
  std::vector<std::string> mapped_;  // sorted case-insensitively
};

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_DIRSYNC_DIRSYNC_ENTRY_H_

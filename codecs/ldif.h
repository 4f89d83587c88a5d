// LDIF (RFC 2849): a writer for `dirledger export --format ldif` and a
// reader for LDIF input (test data, imports). The reader accepts content
// records and change records (add, delete, modify, modrdn/moddn), folded
// lines, comments, base64 values ("::"); it refuses URL values (":<") rather
// than read files named by its input. Errors name the line.
//
// Thread safety: pure functions.
#ifndef DIRLEDGER_CODECS_LDIF_H_
#define DIRLEDGER_CODECS_LDIF_H_

#include <string>
#include <string_view>
#include <vector>

#include "codecs/attributes.h"
#include "codecs/status.h"

namespace dirledger {

enum class LdifChange { kContent, kAdd, kDelete, kModify, kModRdn };

struct LdifModification {
  enum class Op { kAdd, kDelete, kReplace } op = Op::kReplace;
  Attribute attribute;  // values may be empty (delete all / replace with none)
};

struct LdifRecord {
  std::string dn;
  LdifChange change = LdifChange::kContent;
  AttrList attrs;                      // content and add records
  std::vector<LdifModification> mods;  // modify records
  std::string new_rdn;                 // modrdn
  bool delete_old_rdn = true;
  std::string new_superior;
  int line = 0;  // where the record starts
};

// Parses a whole LDIF text. Attribute lists keep the input's order.
Result<std::vector<LdifRecord>> ParseLdif(std::string_view text);

// Whether `value` can be written as a plain (SAFE-STRING) value.
bool LdifSafe(std::string_view value);

// Appends "name: value" (or "name:: base64"), folded at 76 columns.
void AppendLdifLine(std::string* out, std::string_view name,
                    std::string_view value);

// Appends a content record: dn line, attribute lines, a blank line.
void AppendLdifEntry(std::string* out, std::string_view dn,
                     const AttrList& attrs);

std::string Base64Encode(std::string_view bytes);
// Fails on characters outside the base64 alphabet or bad padding.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_LDIF_H_

#include "codecs/ldif.h"

#include <array>

namespace dirledger {
namespace {

constexpr char kB64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Status LineError(int line, const std::string& msg) {
  return Status::InvalidArgument("LDIF line " + std::to_string(line) + ": " +
                                 msg);
}

// One logical line (continuations joined) and where it started.
struct Logical {
  std::string text;
  int line = 0;
};

// Splits into records of logical lines; blank lines separate records.
Result<std::vector<std::vector<Logical>>> SplitRecords(std::string_view text) {
  std::vector<std::vector<Logical>> records;
  std::vector<Logical> current;
  int line_no = 0;
  size_t pos = 0;
  bool last_was_comment = false;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_no;
    const bool at_end = end >= text.size();
    pos = end + 1;
    if (line.empty()) {
      if (!current.empty()) records.push_back(std::move(current));
      current.clear();
      last_was_comment = false;
      if (at_end) break;
      continue;
    }
    if (line[0] == ' ') {
      if (last_was_comment) continue;  // a folded comment
      if (current.empty())
        return LineError(line_no,
                         "continuation line without a line to continue");
      current.back().text.append(line.substr(1));
    } else if (line[0] == '#') {
      last_was_comment = true;
    } else {
      last_was_comment = false;
      current.push_back(Logical{std::string(line), line_no});
    }
    if (at_end) break;
  }
  if (!current.empty()) records.push_back(std::move(current));
  return records;
}

struct NameValue {
  std::string name;
  std::string value;
};

Result<NameValue> SplitLine(const Logical& l) {
  const size_t colon = l.text.find(':');
  if (colon == std::string::npos || colon == 0)
    return LineError(l.line, "expected \"name: value\"");
  NameValue nv;
  nv.name = l.text.substr(0, colon);
  for (char c : nv.name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-' || c == ';' || c == '.';
    if (!ok)
      return LineError(l.line,
                       "invalid attribute description \"" + nv.name + "\"");
  }
  std::string_view rest = std::string_view(l.text).substr(colon + 1);
  if (!rest.empty() && rest[0] == ':') {
    rest.remove_prefix(1);
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    auto decoded = Base64Decode(rest);
    if (!decoded.ok())
      return LineError(l.line, "bad base64 value of " + nv.name + ": " +
                                   decoded.status().message());
    nv.value = std::move(decoded).value();
  } else if (!rest.empty() && rest[0] == '<') {
    return LineError(l.line, "URL values (\"" + nv.name +
                                 ":<\") are not accepted; inline the value");
  } else {
    while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    nv.value = std::string(rest);
  }
  return nv;
}

void AddValue(AttrList* attrs, const std::string& name, std::string value) {
  for (Attribute& a : *attrs) {
    if (EqualsIgnoreCase(a.name, name)) {
      a.values.push_back(std::move(value));
      return;
    }
  }
  attrs->push_back(Attribute{name, {std::move(value)}});
}

Status ParseRecord(const std::vector<Logical>& lines, LdifRecord* rec) {
  size_t i = 0;
  auto first = SplitLine(lines[i]);
  if (!first.ok()) return first.status();
  if (EqualsIgnoreCase(first->name, "version")) {
    if (first->value != "1")
      return LineError(lines[i].line,
                       "unsupported LDIF version " + first->value);
    if (++i == lines.size()) return Status::NotFound("version only");
    first = SplitLine(lines[i]);
    if (!first.ok()) return first.status();
  }
  if (!EqualsIgnoreCase(first->name, "dn"))
    return LineError(lines[i].line, "a record must start with \"dn:\"");
  rec->dn = first->value;
  rec->line = lines[i].line;
  ++i;
  if (i < lines.size()) {
    auto nv = SplitLine(lines[i]);
    if (!nv.ok()) return nv.status();
    if (EqualsIgnoreCase(nv->name, "control"))
      return LineError(lines[i].line, "LDIF controls are not supported");
    if (EqualsIgnoreCase(nv->name, "changetype")) {
      const std::string& t = nv->value;
      if (EqualsIgnoreCase(t, "add"))
        rec->change = LdifChange::kAdd;
      else if (EqualsIgnoreCase(t, "delete"))
        rec->change = LdifChange::kDelete;
      else if (EqualsIgnoreCase(t, "modify"))
        rec->change = LdifChange::kModify;
      else if (EqualsIgnoreCase(t, "modrdn") || EqualsIgnoreCase(t, "moddn"))
        rec->change = LdifChange::kModRdn;
      else
        return LineError(lines[i].line, "unknown changetype \"" + t + "\"");
      ++i;
    }
  }
  switch (rec->change) {
    case LdifChange::kContent:
    case LdifChange::kAdd:
      for (; i < lines.size(); ++i) {
        auto nv = SplitLine(lines[i]);
        if (!nv.ok()) return nv.status();
        AddValue(&rec->attrs, nv->name, std::move(nv->value));
      }
      if (rec->attrs.empty() && rec->change == LdifChange::kAdd)
        return LineError(rec->line, "add record without attributes");
      return Status::Ok();
    case LdifChange::kDelete:
      if (i < lines.size())
        return LineError(lines[i].line, "a delete record has no attributes");
      return Status::Ok();
    case LdifChange::kModRdn:
      for (; i < lines.size(); ++i) {
        auto nv = SplitLine(lines[i]);
        if (!nv.ok()) return nv.status();
        if (EqualsIgnoreCase(nv->name, "newrdn"))
          rec->new_rdn = nv->value;
        else if (EqualsIgnoreCase(nv->name, "deleteoldrdn"))
          rec->delete_old_rdn = nv->value == "1";
        else if (EqualsIgnoreCase(nv->name, "newsuperior"))
          rec->new_superior = nv->value;
        else
          return LineError(lines[i].line, "unexpected \"" + nv->name +
                                              "\" in a modrdn record");
      }
      if (rec->new_rdn.empty())
        return LineError(rec->line, "modrdn record without newrdn");
      return Status::Ok();
    case LdifChange::kModify:
      while (i < lines.size()) {
        auto op = SplitLine(lines[i]);
        if (!op.ok()) return op.status();
        LdifModification m;
        if (EqualsIgnoreCase(op->name, "add"))
          m.op = LdifModification::Op::kAdd;
        else if (EqualsIgnoreCase(op->name, "delete"))
          m.op = LdifModification::Op::kDelete;
        else if (EqualsIgnoreCase(op->name, "replace"))
          m.op = LdifModification::Op::kReplace;
        else
          return LineError(lines[i].line, "expected add:, delete: or replace:");
        m.attribute.name = op->value;
        const int start = lines[i].line;
        ++i;
        bool closed = false;
        for (; i < lines.size(); ++i) {
          if (lines[i].text == "-") {
            closed = true;
            ++i;
            break;
          }
          auto nv = SplitLine(lines[i]);
          if (!nv.ok()) return nv.status();
          if (!EqualsIgnoreCase(nv->name, m.attribute.name))
            return LineError(lines[i].line, "value of \"" + nv->name +
                                                "\" inside a change of \"" +
                                                m.attribute.name + "\"");
          m.attribute.values.push_back(std::move(nv->value));
        }
        if (!closed && i < lines.size())
          return LineError(start, "modification not closed by \"-\"");
        rec->mods.push_back(std::move(m));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::array<int, 256> map;
  map.fill(-1);
  for (int i = 0; i < 64; ++i) map[static_cast<unsigned char>(kB64[i])] = i;
  while (!text.empty() && (text.back() == ' ')) text.remove_suffix(1);
  if (text.size() % 4 != 0)
    return Status::InvalidArgument("length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + static_cast<size_t>(k)];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad) return Status::InvalidArgument("data after padding");
      v[k] = map[static_cast<unsigned char>(c)];
      if (v[k] < 0) return Status::InvalidArgument("invalid character");
    }
    const unsigned n = (static_cast<unsigned>(v[0]) << 18) |
                       (static_cast<unsigned>(v[1]) << 12) |
                       (static_cast<unsigned>(v[2]) << 6) |
                       static_cast<unsigned>(v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

bool LdifSafe(std::string_view v) {
  if (v.empty()) return true;
  const unsigned char first = static_cast<unsigned char>(v[0]);
  if (first == ' ' || first == ':' || first == '<') return false;
  if (v.back() == ' ') return false;
  for (char ch : v) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == 0 || c == '\n' || c == '\r' || c > 127) return false;
  }
  return true;
}

void AppendLdifLine(std::string* out, std::string_view name,
                    std::string_view value) {
  std::string line(name);
  if (LdifSafe(value)) {
    line += ": ";
    line += value;
  } else {
    line += ":: ";
    line += Base64Encode(value);
  }
  // Fold at 76 columns: continuation lines start with one space.
  constexpr size_t kWidth = 76;
  size_t pos = 0;
  bool first = true;
  while (pos < line.size()) {
    const size_t take = first ? kWidth : kWidth - 1;
    if (!first) *out += ' ';
    out->append(line, pos, take);
    *out += '\n';
    pos += take;
    first = false;
  }
  if (line.empty()) *out += '\n';
}

void AppendLdifEntry(std::string* out, std::string_view dn,
                     const AttrList& attrs) {
  AppendLdifLine(out, "dn", dn);
  for (const Attribute& a : attrs)
    for (const std::string& v : a.values) AppendLdifLine(out, a.name, v);
  *out += '\n';
}

Result<std::vector<LdifRecord>> ParseLdif(std::string_view text) {
  auto split = SplitRecords(text);
  if (!split.ok()) return split.status();
  std::vector<LdifRecord> out;
  for (const auto& lines : *split) {
    LdifRecord rec;
    Status s = ParseRecord(lines, &rec);
    if (s.IsNotFound()) continue;  // a lone "version: 1"
    DIRLEDGER_RETURN_IF_ERROR(s);
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace dirledger

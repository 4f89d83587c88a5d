#include "tools/dirledger/verify_mail_directory.h"

#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

#include "codecs/printable.h"
#include "engine/embedded_mail/embedded_mail_directory.h"
#include "engine/wiring/connectors.h"
#include "storage/event_log.h"

namespace dirledger::cli {
namespace {

std::string Values(const std::vector<std::string>& v) {
  if (v.empty()) return "nothing";
  std::string out = "\"";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += "\", \"";
    out += v[i];
  }
  return out + "\"";
}

// Field-by-field differences of one object.
void CompareFields(const std::string& address, const AttrList& in_log,
                   const AttrList& in_mail, std::vector<std::string>* out) {
  std::map<std::string, std::vector<std::string>> log_fields, mail_fields;
  for (const Attribute& a : in_log) log_fields[a.name] = a.values;
  for (const Attribute& a : in_mail) mail_fields[a.name] = a.values;
  std::set<std::string> names;
  for (const auto& [name, v] : log_fields) names.insert(name);
  for (const auto& [name, v] : mail_fields) names.insert(name);
  for (const std::string& name : names) {
    const auto l = log_fields.find(name);
    const auto m = mail_fields.find(name);
    const std::vector<std::string> lv =
        l == log_fields.end() ? std::vector<std::string>() : l->second;
    const std::vector<std::string> mv =
        m == mail_fields.end() ? std::vector<std::string>() : m->second;
    if (lv != mv)
      out->push_back(address + ": " + name + ": the log says " + Values(lv) +
                     ", the mail directory has " + Values(mv));
  }
}

}  // namespace

Status CompareMailDirectory(const EventLog& log,
                            const EmbeddedMailDirectory& mail,
                            MailDirectoryReport* report) {
  std::string cookie;
  Status s = log.GetCursor(mail.id(), &cookie);
  if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
  std::uint64_t cursor = 0;
  if (!cookie.empty()) {
    try {
      cursor = std::stoull(cookie);
    } catch (const std::exception&) {
      return Status::Corruption("the log's cursor of the mail directory, \"" +
                                cookie + "\", is not a change sequence");
    }
  }
  if (mail.last_change() < cursor)
    report->differences.push_back("the mail directory's last change is " +
                                  std::to_string(mail.last_change()) +
                                  ", but the log has read it up " +
                                  "to change " + std::to_string(cursor) +
                                  ": the mail directory is older than the log");

  // What changed after the cursor: not yet in the log, unless the log
  // cannot have seen it (a write of a record it does not have).
  std::set<std::string> not_yet_read;
  for (std::uint64_t after = cursor;;) {
    std::vector<ObservedChange> changes;
    std::uint64_t last = after;
    DIRLEDGER_RETURN_IF_ERROR(mail.ReadChanges(after, 1000, &changes, &last));
    if (changes.empty()) break;
    std::uint64_t seq = after;
    for (const ObservedChange& c : changes) {
      ++seq;  // the change feed is dense
      not_yet_read.insert(c.id);
      if (c.origin_intent && IntentSeq(c.origin_intent) > log.last_seq())
        report->differences.push_back(
            c.id + ": mail directory change " + std::to_string(seq) +
            " was written for log record " +
            std::to_string(IntentSeq(c.origin_intent)) +
            ", which this log (ending at " + std::to_string(log.last_seq()) +
            ") does not have: the mail directory is newer than the log");
    }
    after = last;
  }
  report->not_yet_read = not_yet_read.size();

  std::set<std::string> in_log;
  Status walk = Status::Ok();
  s = log.projection().ForEachObject(Side::kMail, [&](const ObjectState& st) {
    in_log.insert(st.id);
    if (not_yet_read.count(st.id)) return true;
    auto current = mail.Get(st.id);
    if (!current.ok()) {
      walk = current.status();
      return false;
    }
    if (!*current) {
      report->differences.push_back(st.id +
                                    ": the log has it, the mail directory "
                                    "does not");
      return true;
    }
    ++report->compared;
    CompareFields(st.id, st.attrs, (*current)->attrs, &report->differences);
    return true;
  });
  DIRLEDGER_RETURN_IF_ERROR(s);
  DIRLEDGER_RETURN_IF_ERROR(walk);
  return mail.ForEach("", [&](const MailObject& o) {
    if (!in_log.count(o.address) && !not_yet_read.count(o.address))
      report->differences.push_back(o.address +
                                    ": the mail directory has it, the log "
                                    "does not");
    return true;
  });
}

int VerifyMailDirectory(CliContext& ctx, const EventLog& log) {
  const Config* cfg = ctx.config();
  if (cfg->mail.kind != MailKind::kEmbedded) return kExitOk;
  const std::string dir = EmbeddedMailDirectory::DirFor(*cfg);
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    if (log.last_seq() == 0) return kExitOk;  // nothing synced yet
    std::cout << "verify: FAILED: mail directory: " << dir
              << " does not exist, but the log has records\n";
    return kExitFailure;
  }
  auto rules = RuleSet::Compile(*cfg);
  if (!rules.ok()) return ctx.Fail(rules.status());
  auto mail = OpenEmbeddedMail(*rules, /*read_only=*/true);
  if (!mail.ok()) {
    std::cout << "verify: FAILED: mail directory: " << mail.status().message()
              << "\n";
    return kExitFailure;
  }
  MailDirectoryReport report;
  Status s = CompareMailDirectory(log, **mail, &report);
  if (!s.ok()) {
    std::cout << "verify: FAILED: mail directory: " << s.message() << "\n";
    return kExitFailure;
  }
  if (!report.differences.empty()) {
    std::cout << "verify: FAILED: mail directory " << dir << ": "
              << report.differences.size()
              << " differences from what the log says\n";
    for (const std::string& d : report.differences)
      std::cout << "  " << PrintableText(d)
                << "\n";  // values can't forge lines
    return kExitFailure;
  }
  std::cout << "verify: mail directory OK, " << report.compared
            << " objects as the log says";
  if (report.not_yet_read)
    std::cout << " (" << report.not_yet_read
              << " changed since the log last read it)";
  std::cout << "\n";
  return kExitOk;
}

}  // namespace dirledger::cli

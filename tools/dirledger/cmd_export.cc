// `dirledger export --side ldap|mail [--at SEQ] [--format ldif|json]`: the
// state of a side as the log knows it, now or as of any point (by replay).
// LDIF per RFC 2849; the mail side's objects are written under
// "mail=<address>,<domain as dc= parts>", its fields as attributes.
#include <iostream>

#include "codecs/ldif.h"
#include "tools/dirledger/commands.h"
#include "tools/dirledger/render.h"
#include "tools/dirledger/replay_log.h"

namespace dirledger::cli {

int RunExport(CliContext& ctx, const ExportOptions& o) {
  const Side side = o.side == "mail" ? Side::kMail : Side::kLdap;
  EventLog* log = ctx.OpenLog(/*read_only=*/true);
  if (!log) return ctx.OpenFailedExit();
  auto emit = [&](const ObjectState& obj) {
    if (o.format == "json") {
      CliContext::JsonLine(nlohmann::json{{"side", SideName(obj.side)},
                                          {"object_kind", KindName(obj.kind)},
                                          {"id", obj.id},
                                          {"dn", obj.dn},
                                          {"domain", obj.domain},
                                          {"address", obj.address},
                                          {"version", obj.version},
                                          {"attrs", AttrsJson(obj.attrs)}});
      return !CliContext::OutputFailed();  // the rest would be lost too
    }
    std::string out;
    if (side == Side::kLdap) {
      AppendLdifEntry(&out, obj.dn, obj.attrs);
    } else {
      AttrList attrs = obj.attrs;
      SetAttr(&attrs, "objectClass",
              {obj.kind == ObjectKind::kAccount ? "dirledgerMailAccount"
                                                : "dirledgerMailGroup"});
      SetAttr(&attrs, "mail", {obj.id});
      AppendLdifEntry(
          &out, "mail=" + obj.id + "," + DomainToDcParts(obj.domain), attrs);
    }
    std::cout << out;
    return !CliContext::OutputFailed();
  };
  // --at is checked before anything is printed.
  std::uint64_t seq = 0;
  if (!o.at.empty()) {
    std::int64_t t;
    Status s = ParseSeqOrTime(o.at, &seq, &t);
    if (!s.ok()) return ctx.Fail(s);
    if (!seq) {
      auto at = SeqAtTime(*log, t, /*first_after=*/false);
      if (!at.ok()) return ctx.Fail(at.status());
      seq = *at;
    }
    if (seq == 0 || seq > log->last_seq())
      return ctx.Fail(Status::InvalidArgument(
          "--at " + o.at + ": give a sequence between 1 and " +
          std::to_string(log->last_seq()) + ", or a time within the log"));
  }
  if (o.format == "ldif")
    std::cout << "version: 1\n# dirledger export of the " << SideName(side)
              << " side"
              << (o.at.empty() ? "" : " as of sequence " + std::to_string(seq))
              << "\n\n";
  if (o.at.empty()) {
    Status s = log->projection().ForEachObject(side, emit);
    if (!s.ok()) return ctx.Fail(s);
    return kExitOk;
  }
  ReplayOptions ro;
  ro.until = seq;
  ro.compare = false;
  Replayer replayer(ro);
  Status s =
      ReplayToRecord(*log, o.full_replay ? "" : ctx.data_dir(), &replayer, seq);
  if (!s.ok()) return ctx.Fail(s);
  s = replayer.projection().ForEachObject(side, emit);
  if (!s.ok()) return ctx.Fail(s);
  return kExitOk;
}

}  // namespace dirledger::cli

#include "tools/dirledger/hook_observer.h"

#include <chrono>
#include <type_traits>

#include "codecs/printable.h"

namespace dirledger::cli {
namespace {

std::int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

HookEvent OpenedHookEvent(const OpenedRecord& record) {
  HookEvent e;
  e.seq = record.seq;
  e.time_us = record.time_us;
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HoldState>) {
          e.type = "hold";
          e.record = r.hold.hold_id;
          e.source = r.hold.source;
          e.message = std::to_string(r.hold.deletes.size()) +
                      " deletes held by the mass-delete guard";
          if (!r.hold.reason.empty()) e.message += " (" + r.hold.reason + ")";
          e.message += "; `dirledger approve " + r.hold.hold_id +
                       "` deletes them, `dirledger reject " + r.hold.hold_id +
                       "` keeps them";
        } else if constexpr (std::is_same_v<T, FailureState>) {
          e.type = "failed_write";
          e.record = FailureId(r);
          e.source = r.source.empty() ? r.connector : r.source;
          e.side = std::string(SideName(r.side));
          e.kind = std::string(KindName(r.object_kind));
          e.object = r.object;
          if (r.dn != r.object) e.dn = r.dn;
          if (r.side == Side::kMail) e.address = r.object;
          e.message = std::string(FailureKindName(r.kind)) + ": " +
                      (r.kind == FailureKind::kFailedWrite
                           ? std::string(IntentOpName(r.op)) + " failed: "
                           : std::string()) +
                      PrintableText(r.message) + "; `dirledger dismiss " +
                      e.record + "` drops it";
        } else {
          e.type = "conflict";
          e.record = "seq " + std::to_string(r.opened_seq);
          e.source = r.connector;
          e.kind = std::string(KindName(r.kind));
          e.object = r.ldap_id;
          e.address = r.mail_id;
          std::string fields;
          for (const std::string& f : r.fields)
            fields += (fields.empty() ? "" : ", ") + f;
          e.message = "both sides changed " + fields +
                      "; the sides stay apart until one of them changes "
                      "(`dirledger status` lists it)";
        }
      },
      record.record);
  return e;
}

HookObserver::HookObserver(HookRunner* runner) : runner_(runner) {}

void HookObserver::Down(const std::string& source, const Status& s) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!down_.insert(source).second) return;
  }
  HookEvent e;
  e.type = "source_down";
  e.time_us = NowMicros();
  e.source = source;
  e.message = s.message();
  runner_->Post(std::move(e));
}

void HookObserver::Up(const std::string& source) {
  std::lock_guard<std::mutex> l(mu_);
  down_.erase(source);
}

void HookObserver::OnAppend(const std::string& source, const AppendResult&,
                            const SourceStats&) {
  Up(source);
}

void HookObserver::OnPassEnd(const std::string& source, const Status& s,
                             const SourceStats&) {
  if (!s.ok() && s.code() != StatusCode::kAborted) Down(source, s);
}

void HookObserver::OnError(const std::string& what, const Status& s) {
  if (what != "applier") Down(what, s);
}

void HookObserver::OnSourceUnavailable(const std::string& source,
                                       const Status& s) {
  Down(source, s);
}

void HookObserver::OnOpened(const OpenedRecord& record) {
  runner_->Post(OpenedHookEvent(record));
}

void HookObserver::OnCaughtUp(const std::string& source) { Up(source); }

}  // namespace dirledger::cli

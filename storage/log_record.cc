#include "storage/log_record.h"

#include <algorithm>
#include <utility>

#include "codecs/event_codec.h"
#include "codecs/kv_store.h"

namespace dirledger {

Status CheckedPayload(std::string_view value, std::uint64_t seq,
                      std::string_view* payload, std::string* digest) {
  if (value.size() < kSha256Size)
    return Status::Corruption("log record " + std::to_string(seq) +
                              ": too short to be a record");
  const std::string_view bytes = value.substr(0, value.size() - kSha256Size);
  std::string d = Sha256(bytes);
  if (d != value.substr(value.size() - kSha256Size))
    return Status::Corruption("log record " + std::to_string(seq) +
                              ": content does not match its SHA-256 "
                              "(the record was altered or damaged)");
  *payload = bytes;
  if (digest) *digest = std::move(d);
  return Status::Ok();
}

Status ChainChecker::Bad(std::uint64_t seq, std::string message) {
  first_bad_seq_ = seq;
  return Status::Corruption(std::move(message));
}

Status ChainChecker::Next(std::string_view key, std::string_view value) {
  const std::uint64_t expect = expect_;
  if (key.size() != 8)
    return Bad(expect, "log record " + std::to_string(expect) + ": a key of " +
                           std::to_string(key.size()) + " bytes was inserted");
  const std::uint64_t seq = GetBigEndian64(key);
  if (seq != expect)
    return Bad(expect,
               seq > expect
                   ? "log record " + std::to_string(expect) +
                         " is missing (next is " + std::to_string(seq) + ")"
                   : "log record " + std::to_string(seq) + " is out of order");
  std::string_view payload;
  std::string digest;
  Status s = CheckedPayload(value, seq, &payload, &digest);
  if (!s.ok()) return Bad(seq, s.message());
  Event event;
  s = DecodeEvent(payload, seq, &event);
  if (!s.ok()) return Bad(seq, s.message());
  if (event.prev_hash != prev_digest_)
    return Bad(seq > 1 ? seq - 1 : seq,
               "the hash chain breaks between log records " +
                   std::to_string(seq - 1) + " and " + std::to_string(seq) +
                   ": record " + std::to_string(seq) +
                   " does not hold the SHA-256 of its predecessor (one of "
                   "them was replaced)");
  if (auto* c = std::get_if<CursorAdvance>(&event.body))
    cursors_[c->source] = RecordedCursor{std::move(c->cookie), seq};
  prev_digest_ = std::move(digest);
  ++records_;
  ++expect_;
  return Status::Ok();
}

Status ChainChecker::Finish(std::uint64_t head_seq,
                            std::string_view head_digest) {
  const std::uint64_t last = expect_ - 1;
  if (head_seq != last)
    return Bad(std::min(head_seq, last) + 1,
               "the log head says the last record is " +
                   std::to_string(head_seq) + " but the log ends at " +
                   std::to_string(last) +
                   (head_seq > last ? " (records were removed)"
                                    : " (records were added)"));
  if (head_digest != prev_digest_)
    return Bad(last, "log record " + std::to_string(last) +
                         " does not match the log head's SHA-256 (the last "
                         "record was replaced)");
  return Status::Ok();
}

std::string ChainChecker::head_hash_hex() const {
  return HexEncode(prev_digest_);
}

Status CheckStoredCursors(
    const ChainChecker& chain,
    const std::map<std::string, std::string, std::less<>>& stored,
    ChainReport* report) {
  const auto& recorded = chain.cursors();
  for (const auto& [source, cookie] : stored) {
    auto r = recorded.find(source);
    if (r == recorded.end()) {
      report->cursors_unrecorded.push_back(source);
      continue;
    }
    if (r->second.cookie != cookie) {
      report->first_bad_seq = r->second.seq;
      return Status::Corruption(
          "the stored cursor of " + source + " is not the one log record " +
          std::to_string(r->second.seq) +
          " recorded last (it was edited: the source would resume "
          "elsewhere)");
    }
    ++report->cursors_checked;
  }
  for (const auto& [source, r] : recorded)
    if (!stored.count(source)) {
      report->first_bad_seq = r.seq;
      return Status::Corruption(
          "the cursor of " + source + " that log record " +
          std::to_string(r.seq) +
          " recorded is not stored (it was removed: the source would take "
          "everything in again)");
    }
  return Status::Ok();
}

std::string_view SourceOf(const EventBody& body) {
  if (const auto* c = std::get_if<ObservedChange>(&body)) return c->source;
  if (const auto* c = std::get_if<CursorAdvance>(&body)) return c->source;
  if (const auto* c = std::get_if<RefreshPhase>(&body)) return c->source;
  if (const auto* c = std::get_if<DeleteHold>(&body)) return c->source;
  if (const auto* c = std::get_if<ObjectError>(&body)) return c->source;
  return {};
}

Status CheckAppend(std::uint64_t next_seq, const Event& event,
                   const Decision* decision) {
  if (event.seq != next_seq)
    return Status::InvalidArgument(
        "event sequence " + std::to_string(event.seq) + " is not the next (" +
        std::to_string(next_seq) + ")");
  if (decision && decision->seq != event.seq)
    return Status::InvalidArgument(
        "decision for sequence " + std::to_string(decision->seq) +
        " given with event " + std::to_string(event.seq));
  return Status::Ok();
}

void CountForSource(const Event& event, SourceCounts* counts) {
  const std::string_view source = SourceOf(event.body);
  if (source.empty()) return;
  auto it = counts->find(source);
  if (it == counts->end())
    it = counts->emplace(std::string(source), SourceStatus{}).first;
  ++it->second.events;
  it->second.last_seq = event.seq;
  it->second.last_event_us = event.time_us;
}

void FoldSourceCounts(const SourceStatus& counts, SourceStatus* status) {
  status->events += counts.events;
  status->last_seq = counts.last_seq;
  status->last_event_us = counts.last_event_us;
  status->last_contact_us = counts.last_event_us;
}

}  // namespace dirledger

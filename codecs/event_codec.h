// Encoding of events and decisions to their stored FlatBuffers form, and the
// verifying decoder. Every byte read back from storage goes through a decoder
// here; damage becomes a Corruption status naming the sequence, never a crash.
//
// Thread safety: EventEncoder/DecisionEncoder are single-threaded (they reuse
// one builder); the free functions are thread-safe.
#ifndef DIRLEDGER_CODECS_EVENT_CODEC_H_
#define DIRLEDGER_CODECS_EVENT_CODEC_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "codecs/event.h"
#include "codecs/status.h"

namespace flatbuffers {
class FlatBufferBuilder;
}

namespace dirledger {

// Encodes events reusing one builder. The returned view is valid until the
// next call.
class EventEncoder {
 public:
  EventEncoder();
  ~EventEncoder();
  std::string_view Encode(const Event& event);

 private:
  std::unique_ptr<flatbuffers::FlatBufferBuilder> builder_;
};

class DecisionEncoder {
 public:
  DecisionEncoder();
  ~DecisionEncoder();
  std::string_view Encode(const Decision& decision);

 private:
  std::unique_ptr<flatbuffers::FlatBufferBuilder> builder_;
};

std::string EncodeEvent(const Event& event);
std::string EncodeDecision(const Decision& decision);

// Verifies `bytes` and decodes them into `*out` (reusing its storage).
// `seq` is the record's key, used in error messages and checked against the
// sequence stored inside the record.
Status DecodeEvent(std::string_view bytes, std::uint64_t seq, Event* out);
Status DecodeDecision(std::string_view bytes, std::uint64_t seq, Decision* out);

// Verification only (no decoding).
Status VerifyEventBytes(std::string_view bytes, std::uint64_t seq);
Status VerifyDecisionBytes(std::string_view bytes, std::uint64_t seq);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_EVENT_CODEC_H_

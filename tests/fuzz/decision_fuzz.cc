// libFuzzer target: the decision decoder and the projection record decoders.
#include <cstdint>
#include <string>

#include "codecs/event_codec.h"
#include "codecs/projection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  dirledger::Decision d;
  if (dirledger::DecodeDecision(bytes, 1, &d).ok()) {
    dirledger::Decision d2;
    const std::string again = dirledger::EncodeDecision(d);
    if (!dirledger::DecodeDecision(again, 1, &d2).ok()) __builtin_trap();
  }
  dirledger::ObjectState o;
  (void)dirledger::DecodeObjectState(bytes, &o);
  dirledger::LinkState l;
  (void)dirledger::DecodeLinkState(bytes, &l);
  dirledger::PendingIntent p;
  (void)dirledger::DecodePendingIntent(bytes, &p);
  dirledger::HoldState h;
  (void)dirledger::DecodeHoldState(bytes, &h);
  return 0;
}

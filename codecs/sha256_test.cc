#include "codecs/sha256.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

namespace dirledger {
namespace {

TEST_CASE("Sha256 gives the FIPS 180-2 digests") {
  CHECK(HexEncode(Sha256("")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(HexEncode(Sha256("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(HexEncode(Sha256(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("Sha256 into a buffer, the hasher and the one-shot agree") {
  std::string data;
  for (int i = 0; i < 3000; ++i) data += static_cast<char>(i * 7);
  char out[kSha256Size];
  Sha256(data, out);
  Sha256Hasher h;
  h.Update(std::string_view(data).substr(0, 1234));
  h.Update(std::string_view(data).substr(1234));
  const std::string pieces = h.Finish();
  CHECK(std::string(out, kSha256Size) == Sha256(data));
  CHECK(pieces == Sha256(data));
  // The hasher starts over after Finish.
  h.Update("abc");
  CHECK(h.Finish() == Sha256("abc"));
}

TEST_CASE("Sha256 from several threads at once") {
  const std::string want = Sha256("dirledger");
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i)
        if (Sha256("dirledger") != want) ++bad[static_cast<size_t>(t)];
    });
  for (auto& t : threads) t.join();
  CHECK(bad == std::vector<int>(4, 0));
}

}  // namespace
}  // namespace dirledger

// SHA-256 (OpenSSL libcrypto) and hex encoding, for the log's hash chain and
// the config fingerprint.
//
// Thread safety: pure functions (each thread hashes with its own context);
// a Sha256Hasher is used by one thread at a time.
#ifndef DIRLEDGER_CODECS_SHA256_H_
#define DIRLEDGER_CODECS_SHA256_H_

#include <string>
#include <string_view>

namespace dirledger {

constexpr size_t kSha256Size = 32;

// The 32-byte digest of `data`.
std::string Sha256(std::string_view data);
// The same into `out` (kSha256Size bytes), without allocating.
void Sha256(std::string_view data, char* out);

// Incremental hashing of several pieces.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  void Update(std::string_view data);
  std::string Finish();  // 32 bytes; the hasher is reset afterwards

 private:
  void* ctx_;  // EVP_MD_CTX
};

// Lower-case hex of arbitrary bytes.
std::string HexEncode(std::string_view bytes);

}  // namespace dirledger

#endif  // DIRLEDGER_CODECS_SHA256_H_

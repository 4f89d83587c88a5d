#include "codecs/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace dirledger {
namespace {

// SHA-256 fetched from the default provider once: EVP_sha256() makes every
// EVP_DigestInit look the algorithm up again (OpenSSL 3), which cost as much
// as hashing a whole log record.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    EVP_MD* m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (!m) std::abort();  // no default provider: nothing can be verified
    return m;
  }();
  return md;
}

// One reusable digest context per thread, freed when the thread ends.
struct ThreadContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~ThreadContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  Sha256(data, out.data());
  return out;
}

void Sha256(std::string_view data, char* out) {
  thread_local ThreadContext t;
  unsigned int len = 0;
  if (!t.ctx || EVP_DigestInit_ex2(t.ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(t.ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(t.ctx, reinterpret_cast<unsigned char*>(out), &len) !=
          1 ||
      len != kSha256Size)
    std::abort();  // only fails on allocation failure inside libcrypto
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex2(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(),
                                  nullptr) != 1)
    std::abort();
}

Sha256Hasher::~Sha256Hasher() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

void Sha256Hasher::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string Sha256Hasher::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kHex[c >> 4];
    out[2 * i + 1] = kHex[c & 0xf];
  }
  return out;
}

}  // namespace dirledger

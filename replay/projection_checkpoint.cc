#include "replay/projection_checkpoint.h"

#include <zstd.h>

#include "codecs/sha256.h"
#include "replay/checkpoint_bytes.h"

namespace dirledger {
namespace {

using checkpoint_bytes::PutString;
using checkpoint_bytes::PutU64;
using checkpoint_bytes::Reader;

constexpr std::string_view kMagic = "DLPCKPT\n";
// zstd's fastest level: a checkpoint is written while the log is in use,
// and read back far more often than it is written.
constexpr int kZstdLevel = 1;
// Tables larger than this are damage, not a projection (a projection of
// 10 million entries is about 20 GB of tables).
constexpr std::uint64_t kMaxTables = std::uint64_t{1} << 40;

}  // namespace

std::string EncodeCheckpoint(const CheckpointHeader& header,
                             const InMemoryProjection& projection) {
  std::string tables;
  projection.AppendTables(&tables);
  std::string out(kMagic);
  PutU64(&out, kCheckpointFormat);
  PutU64(&out, header.seq);
  PutString(&out, header.record_hash);
  PutU64(&out, header.config_seq);
  PutString(&out, header.writer);
  for (const auto* names :
       {&header.positions.seen, &header.positions.in_full_refresh}) {
    PutU64(&out, names->size());
    for (const std::string& n : *names) PutString(&out, n);
  }
  PutU64(&out, tables.size());
  // The compressed tables as a string (its length, then its bytes),
  // compressed in place: the tables and one bound's worth, no more copies.
  const std::size_t length_at = out.size();
  PutU64(&out, 0);
  const std::size_t start = out.size();
  out.resize(start + ZSTD_compressBound(tables.size()));
  std::size_t n = ZSTD_compress(out.data() + start, out.size() - start,
                                tables.data(), tables.size(), kZstdLevel);
  if (ZSTD_isError(n)) n = 0;  // cannot fail with ZSTD_compressBound's room
  out.resize(start + n);
  std::string().swap(tables);
  std::string length;
  PutU64(&length, n);
  out.replace(length_at, length.size(), length);
  out += Sha256(out);
  return out;
}

Status ReadCheckpoint(std::string_view file, CheckpointHeader* header,
                      std::string* tables) {
  if (file.size() < kMagic.size() + kSha256Size)
    return Status::Corruption("too short for a checkpoint (" +
                              std::to_string(file.size()) + " bytes)");
  const std::string_view body = file.substr(0, file.size() - kSha256Size);
  if (Sha256(body) != file.substr(body.size()))
    return Status::Corruption(
        "its SHA-256 does not match its content: torn or altered");
  if (body.substr(0, kMagic.size()) != kMagic)
    return Status::Corruption("not a dirledger projection checkpoint");
  Reader in(body.substr(kMagic.size()));
  std::uint64_t format = 0;
  DIRLEDGER_RETURN_IF_ERROR(in.U64(&format));
  if (format != kCheckpointFormat)
    return Status::Corruption("checkpoint format " + std::to_string(format) +
                              ", this program reads " +
                              std::to_string(kCheckpointFormat));
  std::string_view hash, writer, packed;
  std::uint64_t size = 0;
  DIRLEDGER_RETURN_IF_ERROR(in.U64(&header->seq));
  DIRLEDGER_RETURN_IF_ERROR(in.String(&hash));
  DIRLEDGER_RETURN_IF_ERROR(in.U64(&header->config_seq));
  DIRLEDGER_RETURN_IF_ERROR(in.String(&writer));
  header->positions = SourcePositions();
  for (auto* names :
       {&header->positions.seen, &header->positions.in_full_refresh}) {
    std::uint64_t n = 0;
    DIRLEDGER_RETURN_IF_ERROR(in.Count(8, &n));
    for (std::uint64_t i = 0; i < n; ++i) {
      std::string_view name;
      DIRLEDGER_RETURN_IF_ERROR(in.String(&name));
      names->emplace(name);
    }
  }
  DIRLEDGER_RETURN_IF_ERROR(in.U64(&size));
  DIRLEDGER_RETURN_IF_ERROR(in.String(&packed));
  if (in.left() != 0)
    return Status::Corruption(std::to_string(in.left()) +
                              " bytes follow the tables");
  if (hash.size() != kSha256Size)
    return Status::Corruption("a record hash of " +
                              std::to_string(hash.size()) + " bytes");
  if (header->config_seq > header->seq)
    return Status::Corruption(
        "its config record " + std::to_string(header->config_seq) +
        " follows its record " + std::to_string(header->seq));
  header->record_hash = std::string(hash);
  header->writer = std::string(writer);
  const unsigned long long framed =
      ZSTD_getFrameContentSize(packed.data(), packed.size());
  if (size > kMaxTables || framed != size)
    return Status::Corruption("its tables are " + std::to_string(size) +
                              " bytes, their compressed frame says otherwise");
  tables->resize(size);
  const std::size_t n =
      ZSTD_decompress(tables->data(), size, packed.data(), packed.size());
  if (ZSTD_isError(n) || n != size)
    return Status::Corruption(
        std::string("its tables do not decompress: ") +
        (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
  return Status::Ok();
}

Status DecodeCheckpoint(std::string_view file, CheckpointHeader* header,
                        InMemoryProjection* projection) {
  *projection = InMemoryProjection();
  std::string tables;
  DIRLEDGER_RETURN_IF_ERROR(ReadCheckpoint(file, header, &tables));
  return projection->ReadTables(tables);
}

}  // namespace dirledger

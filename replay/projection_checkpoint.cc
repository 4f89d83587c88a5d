#include "replay/projection_checkpoint.h"

#include <zstd.h>

#include <algorithm>
#include <memory>

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
  // The tables' size, then the compressed tables as a string (its length,
  // then its bytes): both known only at the end, written in place then.
  // The tables are compressed piece by piece as the projection writes them,
  // never held whole.
  const std::size_t size_at = out.size();
  PutU64(&out, 0);
  PutU64(&out, 0);
  const std::size_t start = out.size();
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(),
                                                            ZSTD_freeCCtx);
  bool failed = !cctx || ZSTD_isError(ZSTD_CCtx_setParameter(
                             cctx.get(), ZSTD_c_compressionLevel, kZstdLevel));
  const auto compress = [&](std::string_view in, ZSTD_EndDirective mode) {
    ZSTD_inBuffer from{in.data(), in.size(), 0};
    while (!failed) {
      const std::size_t at = out.size();
      out.resize(at + ZSTD_CStreamOutSize());
      ZSTD_outBuffer to{out.data() + at, out.size() - at, 0};
      const std::size_t left =
          ZSTD_compressStream2(cctx.get(), &to, &from, mode);
      out.resize(at + to.pos);
      failed = ZSTD_isError(left);
      if (mode == ZSTD_e_end ? left == 0 : from.pos == from.size) break;
    }
  };
  std::uint64_t size = 0;
  projection.WriteTables([&](std::string_view piece) {
    size += piece.size();
    compress(piece, ZSTD_e_continue);
  });
  compress({}, ZSTD_e_end);
  // zstd fails only without memory; a checkpoint without its tables is
  // then refused by every reader, and costs a full replay, nothing else.
  if (failed) out.resize(start);
  std::string sizes;
  PutU64(&sizes, size);
  PutU64(&sizes, out.size() - start);
  out.replace(size_at, sizes.size(), sizes);
  out += Sha256(out);
  return out;
}

namespace {

// The header of checkpoint `file`, its compressed tables (`frame`) and
// their size: every check but decompressing.
Status ReadHeader(std::string_view file, CheckpointHeader* header,
                  std::string_view* frame, std::uint64_t* size) {
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
  std::string_view hash, writer;
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
  DIRLEDGER_RETURN_IF_ERROR(in.U64(size));
  DIRLEDGER_RETURN_IF_ERROR(in.String(frame));
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
  // A frame written in one piece says its content's size; one written as
  // the tables came does not, and is checked as it is decompressed.
  const unsigned long long framed =
      ZSTD_getFrameContentSize(frame->data(), frame->size());
  if (*size > kMaxTables ||
      (framed != ZSTD_CONTENTSIZE_UNKNOWN && framed != *size))
    return Status::Corruption("its tables are " + std::to_string(*size) +
                              " bytes, their compressed frame says otherwise");
  return Status::Ok();
}

Status Undecompressed(const char* why) {
  return Status::Corruption(std::string("its tables do not decompress: ") +
                            why);
}

// One zstd frame, decompressed as it is read.
class FrameReader {
 public:
  explicit FrameReader(std::string_view frame)
      : dctx_(ZSTD_createDCtx(), ZSTD_freeDCtx),
        from_{frame.data(), frame.size(), 0} {
    if (!dctx_) status_ = Undecompressed("no memory");
  }

  // Puts up to `n` of the next bytes at `dst` and says how many: fewer
  // only where the frame ends, or is damaged (status() says so).
  std::size_t Read(char* dst, std::size_t n) {
    ZSTD_outBuffer to{dst, n, 0};
    while (status_.ok() && !done_ && to.pos < n) {
      const std::size_t in_before = from_.pos, out_before = to.pos;
      const std::size_t hint = ZSTD_decompressStream(dctx_.get(), &to, &from_);
      if (ZSTD_isError(hint))
        status_ = Undecompressed(ZSTD_getErrorName(hint));
      else if (hint == 0)
        done_ = true;
      else if (from_.pos == in_before && to.pos == out_before)
        status_ = Undecompressed("the frame is cut short");
    }
    return to.pos;
  }

  // After the last byte wanted: OK when the frame ends there and nothing
  // follows it.
  Status Finish() {
    char extra;
    if (Read(&extra, 1) != 0)
      return Undecompressed("more than the header says");
    if (!status_.ok()) return status_;
    if (from_.pos != from_.size)
      return Undecompressed("bytes follow the frame");
    return Status::Ok();
  }

  const Status& status() const { return status_; }

 private:
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx_;
  ZSTD_inBuffer from_;
  Status status_;
  bool done_ = false;  // the frame has ended
};

}  // namespace

Status ReadCheckpoint(std::string_view file, CheckpointHeader* header,
                      std::string* tables) {
  std::string_view frame;
  std::uint64_t size = 0;
  DIRLEDGER_RETURN_IF_ERROR(ReadHeader(file, header, &frame, &size));
  // Grown as bytes come, not to the size the header claims.
  FrameReader in(frame);
  tables->clear();
  while (tables->size() < size && in.status().ok()) {
    const std::size_t at = tables->size();
    tables->resize(at + std::min<std::uint64_t>(size - at, 1 << 20));
    tables->resize(at + in.Read(tables->data() + at, tables->size() - at));
    if (tables->size() == at) break;
  }
  if (!in.status().ok()) return in.status();
  if (tables->size() != size) return Undecompressed("short");
  return in.Finish();
}

Status ReadCheckpointHeader(std::string_view file, CheckpointHeader* header) {
  std::string_view frame;
  std::uint64_t size = 0;
  return ReadHeader(file, header, &frame, &size);
}

Status CompareCheckpointTables(std::string_view file,
                               const InMemoryProjection& projection,
                               bool* same) {
  CheckpointHeader header;
  std::string_view frame;
  std::uint64_t size = 0;
  DIRLEDGER_RETURN_IF_ERROR(ReadHeader(file, &header, &frame, &size));
  FrameReader stored(frame);
  std::uint64_t written = 0;
  std::string piece_stored;
  *same = true;
  projection.WriteTables([&](std::string_view piece) {
    written += piece.size();
    if (!*same || !stored.status().ok()) return;
    piece_stored.resize(piece.size());
    piece_stored.resize(stored.Read(piece_stored.data(), piece.size()));
    if (piece_stored != piece) *same = false;
  });
  if (!stored.status().ok()) return stored.status();
  // The stored tables must end where the derived ones do.
  if (written != size || (*same && !stored.Finish().ok())) *same = false;
  return Status::Ok();
}

Status DecodeCheckpoint(std::string_view file, CheckpointHeader* header,
                        InMemoryProjection* projection) {
  *projection = InMemoryProjection();
  std::string_view frame;
  std::uint64_t size = 0;
  DIRLEDGER_RETURN_IF_ERROR(ReadHeader(file, header, &frame, &size));
  // The tables are read as they are decompressed, never held whole.
  FrameReader tables(frame);
  Status s = projection->ReadTables(
      size, [&](char* dst, std::size_t n) { return tables.Read(dst, n); });
  // A damaged frame shows in ReadTables as tables ending early; the
  // damage is the better message.
  if (!tables.status().ok()) s = tables.status();
  if (s.ok()) s = tables.Finish();
  if (!s.ok()) *projection = InMemoryProjection();
  return s;
}

}  // namespace dirledger

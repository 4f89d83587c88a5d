#include "tools/dirledger/projection_checkpoints.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "codecs/config.h"
#include "codecs/sha256.h"
#include "engine/crash_point.h"
#include "replay/projection_checkpoint.h"
#include "storage/durable_fs.h"
#include "tools/dirledger/version.h"

namespace dirledger::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "projection-";
constexpr std::string_view kSuffix = ".ckpt";
// Room a checkpoint leaves for the log beyond its own size.
constexpr std::uint64_t kMarginBytes = std::uint64_t{256} << 20;

std::string Dir(const std::string& data_dir) {
  return (fs::path(data_dir) / "checkpoints").string();
}

std::string PathFor(const std::string& data_dir, std::uint64_t seq) {
  char name[64];
  std::snprintf(name, sizeof(name), "projection-%020llu.ckpt",
                static_cast<unsigned long long>(seq));
  return (fs::path(Dir(data_dir)) / name).string();
}

// The SHA-256 of record `seq` as stored (the next record's prev_hash).
Result<std::string> RecordHash(const EventLog& log, std::uint64_t seq) {
  std::string raw;
  DIRLEDGER_RETURN_IF_ERROR(log.ReadRaw(seq, &raw));
  if (raw.size() < kSha256Size ||
      Sha256(std::string_view(raw).substr(0, raw.size() - kSha256Size)) !=
          std::string_view(raw).substr(raw.size() - kSha256Size))
    return Status::Corruption("log record " + std::to_string(seq) +
                              " does not match its SHA-256");
  return raw.substr(raw.size() - kSha256Size);
}

// The ConfigChange record in force at `seq` (0: none).
Result<std::uint64_t> ConfigInForce(const EventLog& log, std::uint64_t seq) {
  std::vector<EventLog::ConfigRecord> history;
  DIRLEDGER_RETURN_IF_ERROR(log.ConfigHistory(&history));
  std::uint64_t in_force = 0;
  for (const auto& r : history)
    if (r.seq <= seq) in_force = std::max(in_force, r.seq);
  return in_force;
}

// Removes all but the newest kKeptCheckpoints, and temporary files.
void Prune(const std::string& data_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(Dir(data_dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".tmp")
      fs::remove(entry.path(), ec);
  }
  const std::vector<CheckpointFile> files = ListCheckpoints(data_dir);
  for (std::size_t i = kKeptCheckpoints; i < files.size(); ++i)
    fs::remove(files[i].path, ec);
}

}  // namespace

std::vector<CheckpointFile> ListCheckpoints(const std::string& data_dir) {
  std::vector<CheckpointFile> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(Dir(data_dir), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() != kPrefix.size() + 20 + kSuffix.size() ||
        name.compare(0, kPrefix.size(), kPrefix) != 0 ||
        name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) !=
            0)
      continue;
    const std::string digits = name.substr(kPrefix.size(), 20);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    out.push_back({std::stoull(digits), entry.path().string()});
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.seq > b.seq; });
  return out;
}

std::string CheckpointWriter() {
  const std::string v = VersionText();
  return v.substr(0, v.find('\n'));
}

Result<std::string> WriteCheckpoint(const EventLog& log,
                                    const std::string& data_dir,
                                    const Replayer& replayer,
                                    const SourcePositions& positions) {
  CheckpointHeader h;
  h.seq = replayer.last_seq();
  if (h.seq == 0) return Status::InvalidArgument("the log is empty");
  auto hash = RecordHash(log, h.seq);
  if (!hash.ok()) return hash.status();
  h.record_hash = *hash;
  auto config = ConfigInForce(log, h.seq);
  if (!config.ok()) return config.status();
  h.config_seq = *config;
  h.writer = CheckpointWriter();
  h.positions = positions;
  const std::string bytes = EncodeCheckpoint(h, replayer.projection());
  const std::string dir = Dir(data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) == 0) {
    const std::uint64_t free_bytes =
        static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
    if (free_bytes < bytes.size() + kMarginBytes)
      return Status::Unavailable(
          std::to_string(bytes.size()) + " bytes would leave the log " +
          std::to_string(free_bytes > bytes.size() ? free_bytes - bytes.size()
                                                   : 0) +
          " bytes free in " + dir + " (at least " +
          std::to_string(kMarginBytes) + " are kept for it)");
  }
  const std::string path = PathFor(data_dir, h.seq);
  // A kill between the halves of the write leaves only the temporary file.
  DIRLEDGER_RETURN_IF_ERROR(WriteFileDurably(
      path, bytes, [] { CrashPoint("checkpoint.half_written"); }));
  Prune(data_dir);
  return path;
}

Result<std::uint64_t> ResumeFromCheckpoint(
    const EventLog& log, const std::string& data_dir, Replayer* replayer,
    std::uint64_t until, std::ostream& notes, SourcePositions* positions) {
  for (const CheckpointFile& f : ListCheckpoints(data_dir)) {
    if (f.seq > until || f.seq > log.last_seq()) continue;
    auto skip = [&](const std::string& why) {
      notes << "dirledger: projection checkpoint " << f.path
            << " not used: " << why << "\n";
    };
    Result<std::string> bytes = LoadFileFromDisk(f.path);
    CheckpointHeader h;
    InMemoryProjection p;
    Status s = bytes.status();
    if (s.ok()) s = DecodeCheckpoint(*bytes, &h, &p);
    if (!s.ok()) {
      skip(s.message());
      continue;
    }
    if (h.seq != f.seq) {
      skip("its header is of record " + std::to_string(h.seq));
      continue;
    }
    if (h.writer != CheckpointWriter()) {
      skip("written by " + h.writer + ", not by this program (" +
           CheckpointWriter() + ")");
      continue;
    }
    auto hash = RecordHash(log, h.seq);
    if (!hash.ok()) return hash.status();
    if (*hash != h.record_hash) {
      skip("record " + std::to_string(h.seq) +
           " of this log is not the one it was made from (the log was "
           "restored, or the checkpoint is of another log)");
      continue;
    }
    auto config = ConfigInForce(log, h.seq);
    if (!config.ok()) return config.status();
    if (*config != h.config_seq) {
      skip("it names config record " + std::to_string(h.config_seq) +
           ", the log has " + std::to_string(*config) + " in force there");
      continue;
    }
    Event config_event;
    if (h.config_seq)
      DIRLEDGER_RETURN_IF_ERROR(log.ReadEvent(h.config_seq, &config_event));
    DIRLEDGER_RETURN_IF_ERROR(replayer->Resume(
        std::move(p), h.seq, h.config_seq ? &config_event : nullptr));
    if (positions) *positions = std::move(h.positions);
    return h.seq;
  }
  return std::uint64_t{0};
}

Status CheckCheckpoint(const EventLog& log, const CheckpointFile& file,
                       const InMemoryProjection& projection,
                       const SourcePositions& positions) {
  CheckpointHeader h;
  Result<std::string> bytes = LoadFileFromDisk(file.path);
  Status s = bytes.status();
  if (s.ok()) s = ReadCheckpointHeader(*bytes, &h);
  if (s.ok() && h.seq != file.seq)
    s = Status::Corruption("its header is of record " + std::to_string(h.seq));
  // Damage a reader refuses: not used, so nothing rests on it.
  if (!s.ok())
    return Status::Unavailable("unreadable, not used: " + s.message());
  auto hash = RecordHash(log, h.seq);
  if (!hash.ok()) return hash.status();
  if (*hash != h.record_hash)
    return Status::Unavailable("not of this log's history (record " +
                               std::to_string(h.seq) + " differs)");
  if (h.writer != CheckpointWriter())
    return Status::Unavailable("written by " + h.writer +
                               ", not checked nor used by this program");
  // The tables are compared as they are decompressed and derived: neither
  // is held whole.
  bool same = false;
  s = CompareCheckpointTables(*bytes, projection, &same);
  if (!s.ok())
    return Status::Unavailable("unreadable, not used: " + s.message());
  if (!same || h.positions != positions)
    return Status::Corruption(
        "its projection is not the one the log derives at record " +
        std::to_string(h.seq));
  return Status::Ok();
}

}  // namespace dirledger::cli

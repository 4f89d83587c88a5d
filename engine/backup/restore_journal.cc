#include "engine/backup/restore_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/crash_point.h"
#include "storage/durable_fs.h"

namespace dirledger {
namespace fs = std::filesystem;
namespace {

constexpr char kJournal[] = "restore-journal.json";
constexpr char kLock[] = "restore.lock";
// The parts a restore may replace (leftovers of each are looked for).
constexpr const char* kParts[] = {"log", "mail"};

struct JournalPart {
  std::string name;
  bool had_old = false;
};

// Holds the data dir's restore lock while alive.
class RestoreLock {
 public:
  ~RestoreLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& data_dir) {
    const std::string path = data_dir + "/" + kLock;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
      return Status::IOError("cannot open " + path + ": " +
                             std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0)
      if (errno != EINTR)
        return Status::IOError("cannot lock " + path + ": " +
                               std::strerror(errno));
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

Status RemoveTree(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
  if (ec)
    return Status::IOError("cannot remove " + p.string() + ": " + ec.message());
  return Status::Ok();
}

Status ReadJournal(const fs::path& path, std::vector<JournalPart>* parts) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    for (const auto& p : j.at("parts")) {
      JournalPart part{p.at("name").get<std::string>(),
                       p.at("had_old").get<bool>()};
      if (part.name != "log" && part.name != "mail")
        return Status::Corruption(path.string() + " names an unknown part " +
                                  part.name);
      parts->push_back(part);
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(path.string() + " is damaged: " + e.what());
  }
  return Status::Ok();
}

// REQUIRES: the lock is held.
Status RecoverLocked(const fs::path& data, std::string* note) {
  const fs::path journal = data / kJournal;
  if (Exists(journal)) {
    std::vector<JournalPart> parts;
    Status read = ReadJournal(journal, &parts);
    // A journal is written whole (through a rename) or not at all; one that
    // cannot be read was not written by dirledger: leave everything.
    if (!read.ok())
      return read.WithContext("an interrupted restore cannot be finished");
    bool forward = true;
    for (const JournalPart& p : parts) {
      const fs::path live = data / p.name;
      const bool staged = Exists(live.string() + ".restoring");
      const bool swapped = !staged && Exists(live) &&
                           (!p.had_old || Exists(live.string() + ".replaced"));
      forward = forward && (staged || swapped);
    }
    for (const JournalPart& p : parts) {
      const std::string live = (data / p.name).string();
      const std::string staged = live + ".restoring";
      const std::string replaced = live + ".replaced";
      if (forward) {
        if (!Exists(staged)) continue;  // already swapped
        if (Exists(live)) {
          DIRLEDGER_RETURN_IF_ERROR(RemoveTree(replaced));
          DIRLEDGER_RETURN_IF_ERROR(RenameDurably(live, replaced));
        }
        DIRLEDGER_RETURN_IF_ERROR(RenameDurably(staged, live));
      } else {
        if (Exists(replaced)) {
          DIRLEDGER_RETURN_IF_ERROR(RemoveTree(live));
          DIRLEDGER_RETURN_IF_ERROR(RenameDurably(replaced, live));
        }
        DIRLEDGER_RETURN_IF_ERROR(RemoveTree(staged));
      }
    }
    std::error_code ec;
    fs::remove(journal, ec);
    if (ec)
      return Status::IOError("cannot remove " + journal.string() + ": " +
                             ec.message());
    DIRLEDGER_RETURN_IF_ERROR(SyncDir(data.string()));
    *note = forward ? "finished a restore that was stopped midway"
                    : "undid a restore that was stopped midway";
  }
  // No journal: a restore stopped before its journal was written (staged
  // copies) or after it was removed (replaced copies), or one of an older
  // dirledger, which kept no journal: a part moved aside with nothing in
  // its place goes back.
  for (const char* name : kParts) {
    const std::string live = (data / name).string();
    const std::string staged = live + ".restoring";
    const std::string replaced = live + ".replaced";
    if (Exists(staged)) {
      DIRLEDGER_RETURN_IF_ERROR(RemoveTree(staged));
      if (note->empty()) *note = "removed the copies of a stopped restore";
    }
    if (Exists(replaced)) {
      if (!Exists(live)) {
        DIRLEDGER_RETURN_IF_ERROR(RenameDurably(replaced, live));
        if (note->empty()) *note = "undid a restore that was stopped midway";
      } else {
        DIRLEDGER_RETURN_IF_ERROR(RemoveTree(replaced));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status RecoverInterruptedRestore(const std::string& data_dir,
                                 std::string* note) {
  note->clear();
  // Most of the time there is nothing to do: then no lock is taken and
  // nothing is written, so read-only commands work on a read-only data dir.
  const fs::path data(data_dir);
  bool leftovers = Exists(data / kJournal);
  for (const char* name : kParts)
    leftovers = leftovers ||
                Exists(data / (std::string(name) + ".restoring")) ||
                Exists(data / (std::string(name) + ".replaced"));
  if (!leftovers) return Status::Ok();
  RestoreLock lock;
  DIRLEDGER_RETURN_IF_ERROR(lock.Acquire(data_dir));
  return RecoverLocked(data_dir, note);
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Status DataDirLock::TryAcquire(const std::string& data_dir, bool exclusive) {
  const std::string path = data_dir + "/" + kLock;
  if (fd_ < 0) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0 && !exclusive &&
        (errno == EROFS || errno == EACCES || errno == EPERM)) {
      // A data dir this process may not write: no restore of it can be
      // started from here, and the open that follows names the real cause.
      fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) return Status::Ok();
    }
    if (fd_ < 0)
      return Status::IOError("cannot open " + path + ": " +
                             std::strerror(errno));
  }
  int rc;
  while ((rc = ::flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)) != 0 &&
         errno == EINTR) {
  }
  if (rc != 0) {
    if (errno == EWOULDBLOCK)
      return Status::Unavailable(
          exclusive ? "data dir " + data_dir +
                          " is in use by another dirledger process"
                    : "a restore of data dir " + data_dir +
                          " is in progress; run again when it is done");
    return Status::IOError("cannot lock " + path + ": " + std::strerror(errno));
  }
  exclusive_ = exclusive;
  return Status::Ok();
}

Status RestoreParts(const std::string& data_dir,
                    const std::vector<RestorePart>& parts,
                    const DataDirLock& held) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec)
    return Status::IOError("cannot create " + data_dir + ": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  if (!held.exclusive())
    return Status::InvalidArgument("restore of " + data_dir +
                                   " without its lock held exclusively");
  const fs::path data(data_dir);
  std::string note;
  DIRLEDGER_RETURN_IF_ERROR(RecoverLocked(data, &note));

  nlohmann::json journal;
  journal["parts"] = nlohmann::json::array();
  for (const RestorePart& p : parts) {
    const std::string live = (data / p.name).string();
    DIRLEDGER_RETURN_IF_ERROR(CopyTreeDurably(p.from, live + ".restoring"));
    CrashPoint(("restore.after_stage_" + p.name).c_str());
    journal["parts"].push_back({{"name", p.name}, {"had_old", Exists(live)}});
  }
  DIRLEDGER_RETURN_IF_ERROR(SyncDir(data_dir));
  DIRLEDGER_RETURN_IF_ERROR(
      WriteFileDurably((data / kJournal).string(), journal.dump() + "\n"));
  CrashPoint("restore.after_journal");
  for (const RestorePart& p : parts) {
    const std::string live = (data / p.name).string();
    if (Exists(live)) {
      DIRLEDGER_RETURN_IF_ERROR(RenameDurably(live, live + ".replaced"));
      CrashPoint(("restore.after_" + p.name + "_aside").c_str());
    }
    DIRLEDGER_RETURN_IF_ERROR(RenameDurably(live + ".restoring", live));
    CrashPoint(("restore.after_" + p.name + "_swap").c_str());
  }
  fs::remove(data / kJournal, ec);
  if (ec)
    return Status::IOError("cannot remove " + (data / kJournal).string() +
                           ": " + ec.message());
  DIRLEDGER_RETURN_IF_ERROR(SyncDir(data_dir));
  CrashPoint("restore.after_commit");
  for (const RestorePart& p : parts)
    DIRLEDGER_RETURN_IF_ERROR(
        RemoveTree((data / p.name).string() + ".replaced"));
  return Status::Ok();
}

}  // namespace dirledger

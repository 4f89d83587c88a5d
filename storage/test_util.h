// Test support for storage: tampering with stored log records behind the
// EventLog's back (as an attacker or a disk fault would), and building a
// stored record from an event.
#ifndef DIRLEDGER_STORAGE_TEST_UTIL_H_
#define DIRLEDGER_STORAGE_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "codecs/event.h"
#include "codecs/status.h"
#include "tests/support/temp_dir.h"

namespace dirledger::test {

// Replaces the stored value of log record `seq` (REQUIRES: log not open).
Status OverwriteLogRecord(const std::string& dir, std::uint64_t seq,
                          const std::string& value);
Status DeleteLogRecord(const std::string& dir, std::uint64_t seq);
// Writes raw bytes into any column family.
Status PutRaw(const std::string& dir, const std::string& cf,
              const std::string& key, const std::string& value);

// Deletes one key of a column family.
Status DeleteRaw(const std::string& dir, const std::string& cf,
                 const std::string& key);
// Deletes every key of a column family.
Status ClearRaw(const std::string& dir, const std::string& cf);
// Reads one key of a column family (NotFound when absent).
Status GetRaw(const std::string& dir, const std::string& cf,
              const std::string& key, std::string* value);

// The stored form of `event` (FlatBuffers + its own SHA-256), as it is.
std::string StoredRecord(const Event& event);

}  // namespace dirledger::test

#endif  // DIRLEDGER_STORAGE_TEST_UTIL_H_

// ScanRecordsAhead: EventLog::ScanRecords with the reading on a thread of
// its own. A whole-log reader (`replay`, `verify`, `rollback`, `export
// --at`) spends a fifth of its time reading: stepping the log's iterators,
// checking each record's digest, copying it out. Done a batch ahead of the
// caller, on the second core, that time overlaps the deciding instead of
// adding to it. The caller sees exactly what ScanRecords gives: the same
// records in the same order, and a damaged record's Corruption after the
// records before it.
//
// Thread safety: `fn` runs on the calling thread only. The log is read from
// the reading thread meanwhile (EventLog reads are thread-safe).
#ifndef DIRLEDGER_STORAGE_RECORD_READ_AHEAD_H_
#define DIRLEDGER_STORAGE_RECORD_READ_AHEAD_H_

#include <cstdint>

#include "codecs/status.h"
#include "storage/event_log.h"

namespace dirledger {

// Visits the records of `log` with seq in [from, to] as
// log.ScanRecords(from, to, fn) does. The reading thread stays at most a few
// batches (up to 1,000 records or 4 MiB each) ahead; when `fn` returns
// false it is stopped and joined before this returns.
Status ScanRecordsAhead(const EventLog& log, std::uint64_t from,
                        std::uint64_t to, const EventLog::RecordFn& fn);

}  // namespace dirledger

#endif  // DIRLEDGER_STORAGE_RECORD_READ_AHEAD_H_

// jemalloc's settings for the dirledger program, read by jemalloc at start
// (the `malloc_conf` symbol; MALLOC_CONF in the environment still overrides
// them). Only linked when the program uses jemalloc (DIRLEDGER_JEMALLOC).
//   narenas:2        one arena per core of a small machine, not four: the
//                    RocksDB background threads would otherwise each keep an
//                    arena of their own, mostly free;
//   dirty_decay_ms   pages freed by the application go back to the system
//   muzzy_decay_ms   after half a second instead of ten.
// Measured on the initial sync of 100,000 entries (docs/performance.md):
// peak RSS 330 MB with jemalloc's defaults, 264 MB with these, in the same
// time.
extern "C" {
// NOLINTNEXTLINE: the name jemalloc looks up.
const char* malloc_conf = "narenas:2,dirty_decay_ms:500,muzzy_decay_ms:0";
}

// Named crash points: a test sets DIRLEDGER_CRASH_AT=NAME and the process
// kills itself with SIGKILL when it reaches the point of that name, so a
// test can stop a command exactly between two of its steps: a backup or a
// restore (tests/e2e/restore_e2e_test.cc), an operator action after it is
// logged and before its writes, a batch of writes after they are made and
// before their outcomes are logged (tests/e2e/rollback_e2e_test.cc). Unset,
// a crash point does nothing.
//
// Thread safety: safe from any thread.
#ifndef DIRLEDGER_ENGINE_CRASH_POINT_H_
#define DIRLEDGER_ENGINE_CRASH_POINT_H_

namespace dirledger {

// SIGKILLs this process when DIRLEDGER_CRASH_AT equals `name`.
void CrashPoint(const char* name);

}  // namespace dirledger

#endif  // DIRLEDGER_ENGINE_CRASH_POINT_H_

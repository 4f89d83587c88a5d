// Status and Result<T>: how every dirledger module reports success or failure
// across its boundary. No exceptions cross a module boundary; libldap,
// RocksDB and OpenSSL errors become a Status at the adapter, with a message
// that names what failed and on which object.
//
// Thread safety: values; safe to copy and move between threads.
#ifndef DIRLEDGER_CODECS_STATUS_H_
#define DIRLEDGER_CODECS_STATUS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dirledger {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kNotFound,
  kCorruption,       // stored data failed verification
  kInvalidArgument,  // bad input: config, command line, LDAP data
  kIOError,          // local disk or OS failure
  kUnavailable,      // a peer cannot be reached right now
  kConflict,         // an expectation about a peer's state did not hold
  kTimeout,          // a lookup ran over its time limit
  kAborted,          // stopped on request (signal, operator)
  kHeld,             // held by the mass-delete guard
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) {
    return Status(StatusCode::kNotFound, std::move(msg));
  }
  static Status Corruption(std::string msg) {
    return Status(StatusCode::kCorruption, std::move(msg));
  }
  static Status InvalidArgument(std::string msg) {
    return Status(StatusCode::kInvalidArgument, std::move(msg));
  }
  static Status IOError(std::string msg) {
    return Status(StatusCode::kIOError, std::move(msg));
  }
  // Unavailable and Timeout are retryable by default: the peer may come back.
  static Status Unavailable(std::string msg) {
    return Status(StatusCode::kUnavailable, std::move(msg), true);
  }
  static Status Timeout(std::string msg) {
    return Status(StatusCode::kTimeout, std::move(msg), true);
  }
  static Status Conflict(std::string msg) {
    return Status(StatusCode::kConflict, std::move(msg));
  }
  static Status Aborted(std::string msg) {
    return Status(StatusCode::kAborted, std::move(msg));
  }
  static Status Held(std::string msg) {
    return Status(StatusCode::kHeld, std::move(msg));
  }

  Status(StatusCode code, std::string msg, bool retryable = false)
      : code_(code), retryable_(retryable), message_(std::move(msg)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  bool retryable() const { return retryable_; }
  const std::string& message() const { return message_; }

  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }

  // Returns a copy with `context` prepended ("context: message").
  Status WithContext(std::string_view context) const;
  Status WithRetryable(bool retryable) const;

  // "Corruption: log record 17: ..." ; "OK" when ok.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  bool retryable_ = false;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    if (status_.ok())
      status_ = Status(StatusCode::kInvalidArgument,
                       "Result built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace dirledger

// Returns early from the enclosing function when `expr` is not OK.
#define DIRLEDGER_RETURN_IF_ERROR(expr)                    \
  do {                                                     \
    ::dirledger::Status dirledger_status_ = (expr);        \
    if (!dirledger_status_.ok()) return dirledger_status_; \
  } while (0)

#endif  // DIRLEDGER_CODECS_STATUS_H_

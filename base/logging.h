// A small logging facility: severities, a process-wide verbosity for VLOG, and a raw
// variant that is async-signal-safe (for the code between fork and execve).
#ifndef BASE_LOGGING_H_
#define BASE_LOGGING_H_

#include <sstream>

namespace base {

enum class LogSeverity { kInfo, kWarning, kError };

// The names LOG(...) takes: LOG(INFO), LOG(WARNING), LOG(ERROR).
namespace log_severity {
constexpr LogSeverity INFO = LogSeverity::kInfo;
constexpr LogSeverity WARNING = LogSeverity::kWarning;
constexpr LogSeverity ERROR = LogSeverity::kError;
}  // namespace log_severity

// Sets the name printed at the start of every log line (default: "log").
void SetLogPrefix(const char* prefix);

// Sets the level up to which VLOG(n) statements print; 0 (the default) prints none.
void SetVerbosity(int level);
int Verbosity();

// Suppresses INFO and WARNING lines (ERROR lines still print).
void SetQuiet(bool quiet);

// One log line, written to stderr in a single write(2) when destroyed.
class LogMessage {
 public:
  LogMessage(LogSeverity severity, const char* file, int line);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();

  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::ostringstream stream_;
};

// Async-signal-safe: writes "<prefix>: <message>\n" with write(2), no allocation, no locks.
void RawLog(const char* message);
// Async-signal-safe: writes "<prefix>: <what>: errno <error_number>\n".
void RawLogErrno(const char* what, int error_number);

}  // namespace base

#define LOG(severity) \
  ::base::LogMessage(::base::log_severity::severity, __FILE__, __LINE__).stream()

#define VLOG(level)                    \
  if (::base::Verbosity() < (level)) { \
  } else                               \
    LOG(INFO)

#endif  // BASE_LOGGING_H_

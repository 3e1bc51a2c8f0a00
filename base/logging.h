// A small logging facility: severities and a process-wide verbosity for VLOG.
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
  explicit LogMessage(LogSeverity severity);
  LogMessage(const LogMessage&) = delete;
  LogMessage& operator=(const LogMessage&) = delete;
  ~LogMessage();

  std::ostream& stream() { return stream_; }

 private:
  LogSeverity severity_;
  std::ostringstream stream_;
};

}  // namespace base

#define LOG(severity) ::base::LogMessage(::base::log_severity::severity).stream()

#define VLOG(level)                    \
  if (::base::Verbosity() < (level)) { \
  } else                               \
    LOG(INFO)

#endif  // BASE_LOGGING_H_

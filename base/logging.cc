#include "base/logging.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace base {
namespace {

std::atomic<const char*> g_prefix{"log"};
std::atomic<int> g_verbosity{0};
std::atomic<bool> g_quiet{false};

void WriteAll(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDERR_FILENO, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

const char* SeverityName(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return "";
    case LogSeverity::kWarning:
      return "warning: ";
    case LogSeverity::kError:
      return "error: ";
  }
  return "";
}

}  // namespace

void SetLogPrefix(const char* prefix) { g_prefix.store(prefix); }
void SetVerbosity(int level) { g_verbosity.store(level); }
int Verbosity() { return g_verbosity.load(std::memory_order_relaxed); }
void SetQuiet(bool quiet) { g_quiet.store(quiet); }

LogMessage::LogMessage(LogSeverity severity) : severity_(severity) {}

LogMessage::~LogMessage() {
  if (g_quiet.load() && severity_ != LogSeverity::kError) return;
  std::string line =
      std::string(g_prefix.load()) + ": " + SeverityName(severity_) + stream_.str() + "\n";
  WriteAll(line.data(), line.size());
}

}  // namespace base

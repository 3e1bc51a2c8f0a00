// The supervisor: serves the module's trapped syscalls until it exits.
//
// One worker thread at a time, the receiver, takes seccomp notifications and serves them
// with the dispatch tables and a memory accessor for the calling module thread. Each call is
// first tried without blocking; one that would block gives up the receiver role to another
// worker (an idle one, or a new one) before it waits, so a blocking call blocks only the
// module thread that made it, and a call that does not block costs one receive and one
// reply, like a bare seccomp round trip. When the module exits, calls still blocked are
// cancelled and the descriptor table is closed: nothing stays open here.
#ifndef SEL_LDR_SUPERVISOR_H_
#define SEL_LDR_SUPERVISOR_H_

#include <linux/seccomp.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"
#include "imc/cancellation.h"
#include "sel_ldr/module_memory.h"
#include "sel_ldr/sandbox.h"
#include "sel_ldr/seccomp_unotify.h"
#include "syscalls/call_context.h"
#include "syscalls/descriptor_table.h"

namespace sel_ldr {

// How the module ended.
struct ModuleOutcome {
  enum class Kind {
    kExited,           // exit_group, or the NaCl exit call: `status`.
    kSignaled,         // Died of `signal`.
    kPolicyViolation,  // Killed for calling `violation` (a syscall name and number).
    kStartFailed,      // Never ran: `violation` says why.
  };
  Kind kind = Kind::kExited;
  int status = 0;
  int signal = 0;
  std::string violation;
};

struct SupervisorOptions {
  // Trace every trapped call to stderr, like strace.
  bool trace = false;
  // The module's threads at once, its main thread included; pthread_create beyond is EAGAIN.
  int max_threads = 256;
};

class Supervisor : public syscalls::ModuleControl {
 public:
  // Serves `module` with `table`, which the module's descriptors live in. The module's calls
  // arrive through `listener`: SeccompUnotify on the module's listener fd (which the
  // supervisor then takes from `module`), or a fake in tests.
  Supervisor(SandboxedModule module, std::unique_ptr<SeccompListener> listener,
             syscalls::DescriptorTable* table, SupervisorOptions options);
  ~Supervisor() override;

  // Lets the module exec, serves it until it exits, and returns how it ended. Afterwards no
  // worker runs and the descriptor table is empty.
  absl::StatusOr<ModuleOutcome> Run();

  // syscalls::ModuleControl.
  int64_t Exit(int status) override;
  int64_t GetPid() override;
  int64_t PlaceFd(uint64_t call, int host_fd, int number) override;
  int64_t ReleaseFd(uint64_t call, int number) override;

 private:
  struct Worker;
  // What a served call answers: a value or errno, or "let the kernel run it".
  struct Response {
    int64_t value = 0;
    bool continue_in_kernel = false;
  };

  // Requires mu_. Errors: the eventfd error (EMFILE when sel_ldr's fds are used up).
  absl::Status StartWorker();
  void WorkerLoop(Worker* worker);
  // Gives up the receiver role to an idle worker or a new one. If there is none and none can
  // be started, keeps the role and returns StartWorker's error.
  absl::Status HandOffReceiver();
  // Serves one call; sets *handed_off if it gave up the receiver role to block.
  Response Serve(const seccomp_notif& notification, Worker* worker, bool* handed_off);
  Response ServeExec(const seccomp_notif& notification);
  // clone (a thread, within the budget) and exit (a thread ends).
  Response ServeThreads(const seccomp_notif& notification);
  // The module's threads now, from /proc; 0 if it cannot be read.
  int CountModuleThreads() const;
  // A call the supervisor does not serve: answered with the policy's errno (and said once),
  // or a violation if the policy makes it fatal.
  Response Unserved(const seccomp_notif& notification);
  Response Violation(const seccomp_notif& notification);
  // Sends `response` as the answer to call `id`.
  absl::Status Answer(uint64_t id, const Response& response);
  // Whether call `id` still waits for its answer; false if the listener cannot tell.
  bool CallIsLive(uint64_t id);
  void Trace(const seccomp_notif& notification, const char* name, const Response& response);
  void KillModule();
  void StopWorkers();

  SandboxedModule module_;
  std::unique_ptr<SeccompListener> listener_;
  ModuleMemory memory_;
  syscalls::DescriptorTable* table_;
  SupervisorOptions options_;
  // What ReleaseFd puts where a placed fd was: an empty, sealed memfd.
  base::UniqueFd placeholder_;
  std::atomic<bool> stopping_{false};
  // Set when the loader's exec of the module was let through; no exec is after it.
  std::atomic<bool> module_started_{false};

  std::mutex mu_;
  std::condition_variable workers_changed_;
  std::condition_variable receiver_free_;
  std::set<Worker*> workers_;    // Guarded by mu_: running workers, each owned by itself.
  bool receiver_taken_ = false;  // Guarded by mu_.
  int idle_workers_ = 0;         // Guarded by mu_: waiting to receive.
  int live_workers_ = 0;         // Guarded by mu_.
  int threads_ = 1;              // Guarded by mu_: the module's threads, its main one included.
  bool exit_requested_ = false;  // Guarded by mu_.
  int exit_status_ = 0;          // Guarded by mu_.
  std::string violation_;        // Guarded by mu_.
};

}  // namespace sel_ldr

#endif  // SEL_LDR_SUPERVISOR_H_

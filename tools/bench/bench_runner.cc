#include "tools/bench/bench_runner.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/errno_status.h"
#include "base/status_macros.h"

namespace bench {
namespace {

// Calibration never goes past this many operations per repetition.
constexpr int64_t kMaxIterations = int64_t{1} << 30;

int64_t NowNanoseconds() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// Returns the wall time of `iterations` operations of `workload`, in nanoseconds.
absl::StatusOr<double> TimeBatch(Workload& workload, int64_t iterations) {
  const int64_t start = NowNanoseconds();
  RETURN_IF_ERROR(workload.Run(iterations));
  return static_cast<double>(NowNanoseconds() - start);
}

absl::StatusOr<int64_t> Calibrate(Workload& workload, absl::Duration min_batch) {
  const double min_ns = absl::ToDoubleNanoseconds(min_batch);
  int64_t iterations = 1;
  for (;;) {
    ASSIGN_OR_RETURN(double ns, TimeBatch(workload, iterations));
    if (ns >= min_ns || iterations >= kMaxIterations) return iterations;
    // Aim 20% past the goal so that one more batch usually suffices, growing at least 2x
    // and at most 100x per step.
    const double scale = ns <= 0 ? 100 : std::clamp(min_ns / ns * 1.2, 2.0, 100.0);
    iterations = std::min(kMaxIterations, static_cast<int64_t>(iterations * scale));
  }
}

absl::Status WithContext(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

struct Flags {
  bool help = false;
  bool list = false;
  bool json = false;
  std::string csv_path;
  std::vector<std::string> filters;
  RunOptions run;
  bool pin = true;
  int main_cpu = -1;
  int peer_cpu = -1;
};

constexpr char kFlagsHelp[] = R"(Flags:
  -h, --help        this text
  --list            list the comparisons and exit
  --filter TEXT     run only comparisons whose name contains TEXT (repeatable)
  --reps N          timed repetitions per side; figures are their medians (default 11)
  --min-batch-ms N  choose the iteration count so that one baseline repetition lasts at
                    least N ms (default 40)
  --iterations N    use N operations per repetition instead of calibrating
  --cpu N           pin the benchmark to CPU N (default: the last CPU it may use)
  --peer-cpu N      pin forked peer processes to CPU N (default: another CPU if any)
  --no-pin          do not pin anything
  --json            print the results as JSON on stdout (the table goes to stderr)
  --csv FILE        also write the results as CSV to FILE (a relative FILE is taken from
                    the directory where `bazel run` was started)
  -v, --verbose     print every repetition to stderr

Flags take their value as --name VALUE or --name=VALUE.

Output: a table with the header NAME OURS BASELINE RATIO UNIT, one row per comparison.
OURS and BASELINE are medians measured in this run, alternating between the two sides with
the same iteration count and the same CPU placement; RATIO = OURS / BASELINE (below 1.00x:
ours is faster, or smaller). CSV and JSON add each side's min and max and, in JSON, every
repetition.
)";

std::string Usage(const BenchmarkInfo& info, const std::vector<Comparison>& comparisons) {
  std::string out = absl::StrCat("usage: ", info.name, " [flags]\n\n", info.description,
                                 "\n\nComparisons (ours vs baseline):\n");
  for (const Comparison& c : comparisons) {
    absl::StrAppend(&out, "  ", c.name, "\n      ", c.description, "\n");
  }
  absl::StrAppend(&out, "\n", kFlagsHelp,
                  "\nExamples:\n  ./bazelw run -c opt //tools/bench:", info.name,
                  "\n  ./bazelw run -c opt //tools/bench:", info.name,
                  " -- --filter connect --reps 15 --csv /tmp/", info.name, ".csv\n");
  return out;
}

// Reads a whole number >= `min` for flag `name`.
absl::StatusOr<int64_t> ParseCount(const char* name, const char* text, int64_t min) {
  int64_t number;
  if (!absl::SimpleAtoi(text, &number) || number < min) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " takes a whole number >= ", min, ", not '", text, "'"));
  }
  return number;
}

// Parses argv into `flags` with getopt_long ("--name VALUE" or "--name=VALUE"); returns a
// message for the first bad flag.
absl::Status ParseFlags(int argc, char** argv, Flags* flags) {
  static const option kOptions[] = {{"help", no_argument, nullptr, 'h'},
                                    {"list", no_argument, nullptr, 'l'},
                                    {"json", no_argument, nullptr, 'j'},
                                    {"verbose", no_argument, nullptr, 'v'},
                                    {"no-pin", no_argument, nullptr, 'n'},
                                    {"csv", required_argument, nullptr, 'o'},
                                    {"filter", required_argument, nullptr, 'f'},
                                    {"reps", required_argument, nullptr, 'r'},
                                    {"min-batch-ms", required_argument, nullptr, 'b'},
                                    {"iterations", required_argument, nullptr, 'i'},
                                    {"cpu", required_argument, nullptr, 'c'},
                                    {"peer-cpu", required_argument, nullptr, 'p'},
                                    {}};
  opterr = 0;
  optind = 1;
  int flag;
  int index = -1;
  while ((flag = getopt_long(argc, argv, ":hv", kOptions, &index)) != -1) {
    const char* name = index >= 0 ? kOptions[index].name : "";
    index = -1;
    switch (flag) {
      case 'h':
        flags->help = true;
        break;
      case 'l':
        flags->list = true;
        break;
      case 'j':
        flags->json = true;
        break;
      case 'v':
        flags->run.verbose = true;
        break;
      case 'n':
        flags->pin = false;
        break;
      case 'o':
        flags->csv_path = optarg;
        break;
      case 'f':
        flags->filters.push_back(optarg);
        break;
      case 'r': {
        ASSIGN_OR_RETURN(int64_t reps, ParseCount(name, optarg, 1));
        flags->run.repetitions = static_cast<int>(std::min<int64_t>(reps, 1000));
        break;
      }
      case 'b': {
        ASSIGN_OR_RETURN(int64_t ms, ParseCount(name, optarg, 0));
        flags->run.min_batch = absl::Milliseconds(ms);
        break;
      }
      case 'i': {
        ASSIGN_OR_RETURN(flags->run.iterations, ParseCount(name, optarg, 1));
        break;
      }
      case 'c': {
        ASSIGN_OR_RETURN(int64_t cpu, ParseCount(name, optarg, 0));
        flags->main_cpu = static_cast<int>(std::min<int64_t>(cpu, CPU_SETSIZE));
        break;
      }
      case 'p': {
        ASSIGN_OR_RETURN(int64_t cpu, ParseCount(name, optarg, 0));
        flags->peer_cpu = static_cast<int>(std::min<int64_t>(cpu, CPU_SETSIZE));
        break;
      }
      case ':':
        return absl::InvalidArgumentError(absl::StrCat(argv[optind - 1], " needs a value"));
      default:
        return absl::InvalidArgumentError(absl::StrCat("unknown flag '", argv[optind - 1], "'"));
    }
  }
  if (optind < argc) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", argv[optind], "'"));
  }
  return absl::OkStatus();
}

bool Selected(const Flags& flags, const Comparison& comparison) {
  if (flags.filters.empty()) return true;
  for (const std::string& filter : flags.filters) {
    if (comparison.name.find(filter) != std::string::npos) return true;
  }
  return false;
}

std::string CpuName(int cpu) { return cpu < 0 ? "not pinned" : absl::StrCat("cpu ", cpu); }

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  FILE* file = fopen(path.c_str(), "w");
  if (file == nullptr) return base::ErrnoStatus(errno, absl::StrCat("open ", path));
  const bool written = fwrite(contents.data(), 1, contents.size(), file) == contents.size();
  const int write_errno = errno;
  if (fclose(file) != 0 || !written) {
    return base::ErrnoStatus(written ? errno : write_errno, absl::StrCat("write ", path));
  }
  return absl::OkStatus();
}

// Under `bazel run` the working directory is the runfiles tree; a relative path means the
// directory the user ran bazel from.
std::string ResolveUserPath(const std::string& path) {
  const char* user_dir = getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || user_dir == nullptr) return path;
  return absl::StrCat(user_dir, "/", path);
}

}  // namespace

absl::StatusOr<double> Workload::Measure(int64_t iterations) {
  ASSIGN_OR_RETURN(double ns, TimeBatch(*this, iterations));
  return ns / static_cast<double>(iterations);
}

absl::Status PinToCpu(int cpu) {
  if (cpu < 0) return absl::OkStatus();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    return base::ErrnoStatus(errno, absl::StrCat("sched_setaffinity(cpu ", cpu, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Placement> ChoosePlacement(int main_cpu, int peer_cpu) {
  const std::vector<int> allowed = AllowedCpus();
  if (allowed.empty()) return base::ErrnoStatus(errno, "sched_getaffinity");
  auto check = [&](int cpu) -> absl::Status {
    if (std::find(allowed.begin(), allowed.end(), cpu) != allowed.end()) {
      return absl::OkStatus();
    }
    return base::ErrnoStatus(EINVAL, absl::StrCat("cpu ", cpu, " is not one of the allowed cpus ",
                                                  absl::StrJoin(allowed, ",")));
  };
  Placement placement;
  if (main_cpu >= 0) {
    RETURN_IF_ERROR(check(main_cpu));
    placement.main_cpu = main_cpu;
  } else {
    // CPU 0 tends to take more of the machine's interrupts and housekeeping.
    placement.main_cpu = allowed.back();
  }
  if (peer_cpu >= 0) {
    RETURN_IF_ERROR(check(peer_cpu));
    placement.peer_cpu = peer_cpu;
  } else {
    placement.peer_cpu = placement.main_cpu;
    for (int cpu : allowed) {
      if (cpu != placement.main_cpu) {
        placement.peer_cpu = cpu;
        break;
      }
    }
  }
  return placement;
}

absl::StatusOr<BenchRow> RunComparison(Comparison& comparison, const RunOptions& options) {
  Workload* sides[2] = {comparison.ours.get(), comparison.baseline.get()};
  const char* side_names[2] = {"ours", "baseline"};
  int set_up = 0;
  absl::Status status;
  BenchRow row;
  row.name = comparison.name;
  row.unit = comparison.unit;
  std::vector<double> samples[2];

  for (; set_up < 2 && status.ok(); ++set_up) {
    status = WithContext(sides[set_up]->SetUp(), absl::StrCat(side_names[set_up], " set-up"));
  }
  if (status.ok()) {
    absl::StatusOr<int64_t> iterations =
        comparison.iterations > 0 ? comparison.iterations : options.iterations;
    if (*iterations <= 0) iterations = Calibrate(*sides[1], options.min_batch);
    status = WithContext(iterations.status(), "baseline calibration");
    if (status.ok()) {
      row.iterations = *iterations;
      status = WithContext(sides[0]->Measure(row.iterations).status(), "ours warm-up");
    }
  }
  for (int rep = 0; rep < options.repetitions && status.ok(); ++rep) {
    for (int k = 0; k < 2 && status.ok(); ++k) {
      const int side = (rep + k) % 2;  // Ours first in even repetitions.
      absl::StatusOr<double> figure = sides[side]->Measure(row.iterations);
      status = WithContext(figure.status(), side_names[side]);
      if (!status.ok()) break;
      samples[side].push_back(*figure);
      if (options.verbose) {
        fprintf(stderr, "  %s rep %d %-8s %s %s\n", comparison.name.c_str(), rep, side_names[side],
                FormatFigure(samples[side].back()).c_str(), row.unit.c_str());
      }
    }
  }
  for (int side = 0; side < set_up; ++side) {
    absl::Status torn_down =
        WithContext(sides[side]->TearDown(), absl::StrCat(side_names[side], " tear-down"));
    if (status.ok()) status = torn_down;
  }
  if (!status.ok()) return WithContext(status, comparison.name);
  row.ours = Summarize(std::move(samples[0]));
  row.baseline = Summarize(std::move(samples[1]));
  return row;
}

int BenchMain(int argc, char** argv, const BenchmarkInfo& info,
              const ComparisonFactory& make_comparisons) {
  Flags flags;
  if (absl::Status parsed = ParseFlags(argc, argv, &flags); !parsed.ok()) {
    fprintf(stderr, "%s: %s (see --help)\n", info.name, std::string(parsed.message()).c_str());
    return 2;
  }
  if (flags.help || flags.list) {
    std::vector<Comparison> comparisons = make_comparisons(Placement{});
    if (flags.help) {
      fputs(Usage(info, comparisons).c_str(), stdout);
    } else {
      for (const Comparison& c : comparisons) printf("%s\n", c.name.c_str());
    }
    return 0;
  }

  const size_t allowed_cpus = AllowedCpus().size();  // Before pinning narrows the set.
  Placement placement;
  if (flags.pin) {
    absl::StatusOr<Placement> chosen = ChoosePlacement(flags.main_cpu, flags.peer_cpu);
    if (!chosen.ok()) {
      fprintf(stderr, "%s: %s\n", info.name, std::string(chosen.status().message()).c_str());
      return 2;
    }
    placement = *chosen;
    if (absl::Status pinned = PinToCpu(placement.main_cpu); !pinned.ok()) {
      fprintf(stderr, "%s: %s\n", info.name, std::string(pinned.message()).c_str());
      return 1;
    }
  }

  std::vector<Comparison> comparisons = make_comparisons(placement);
  std::vector<Comparison*> selected;
  for (Comparison& c : comparisons) {
    if (Selected(flags, c)) selected.push_back(&c);
  }
  if (selected.empty()) {
    fprintf(stderr, "%s: no comparison matches the filter (see --list)\n", info.name);
    return 2;
  }

  BenchTable table(info.name);
#ifdef NDEBUG
  table.AddContext("build", "optimized (NDEBUG)");
#else
  table.AddContext("build", "NOT optimized: run with -c opt for meaningful figures");
#endif
  table.AddContext("figures",
                   absl::StrCat("medians of ", flags.run.repetitions,
                                " repetitions per side, sides alternating; RATIO = OURS / "
                                "BASELINE"));
  table.AddContext("iterations", flags.run.iterations > 0
                                     ? absl::StrCat(flags.run.iterations, " per repetition")
                                     : absl::StrCat("calibrated per row so that a baseline "
                                                    "repetition lasts >= ",
                                                    absl::FormatDuration(flags.run.min_batch)));
  table.AddContext("placement",
                   absl::StrCat("benchmark on ", CpuName(placement.main_cpu), ", forked peers on ",
                                CpuName(placement.peer_cpu), " (of ", allowed_cpus, " allowed)"));

  int exit_code = 0;
  for (Comparison* c : selected) {
    fprintf(stderr, "%s: running %s\n", info.name, c->name.c_str());
    absl::StatusOr<BenchRow> row = RunComparison(*c, flags.run);
    if (!row.ok()) {
      fprintf(stderr, "%s: FAILED %s\n", info.name, row.status().ToString().c_str());
      exit_code = 1;
      continue;
    }
    table.AddRow(*std::move(row));
  }

  const std::string text = table.FormatText();
  if (flags.json) {
    fputs(text.c_str(), stderr);
    fputs(table.FormatJson().c_str(), stdout);
  } else {
    fputs(text.c_str(), stdout);
  }
  fflush(stdout);
  if (!flags.csv_path.empty()) {
    const std::string path = ResolveUserPath(flags.csv_path);
    if (absl::Status written = WriteFile(path, table.FormatCsv()); !written.ok()) {
      fprintf(stderr, "%s: %s\n", info.name, std::string(written.message()).c_str());
      exit_code = 1;
    } else {
      fprintf(stderr, "%s: wrote %s\n", info.name, path.c_str());
    }
  }
  return exit_code;
}

}  // namespace bench

#include "tools/bench/bench_runner.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "base/errno_status.h"
#include "base/status_macros.h"
#include "benchmark/benchmark.h"
#include "tools/bench/bench_table.h"
#include "tools/bench/comparison_benchmark.h"
#include "tools/bench/table_reporter.h"

namespace bench {
namespace {

constexpr char kBenchmarkFlagPrefix[] = "--benchmark_";

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
  bool verbose = false;
  std::string csv_path;
  std::vector<std::string> filters;
  int64_t repetitions = 11;
  int64_t min_batch_ms = 40;
  int64_t iterations = 0;
  bool pin = true;
  int main_cpu = -1;
  int peer_cpu = -1;
  // --benchmark_* flags as given, for Google Benchmark after the ones ours map to.
  std::vector<std::string> benchmark_flags;
};

constexpr char kFlagsHelp[] = R"(Flags:
  -h, --help        this text
  --list            list the comparisons and exit
  --filter TEXT     run only comparisons whose name contains TEXT (repeatable; sets
                    --benchmark_filter)
  --reps N          repetitions; figures are their medians (default 11; sets
                    --benchmark_repetitions)
  --min-batch-ms N  calibrate the iteration count so that the baseline's part of one
                    repetition lasts at least N ms (default 40; sets --benchmark_min_time)
  --iterations N    use N operations per side and repetition instead of calibrating
  --cpu N           pin the benchmark to CPU N (default: the last CPU it may use)
  --peer-cpu N      pin forked peer processes to CPU N (default: another CPU if any)
  --no-pin          do not pin anything
  --json            print Google Benchmark's JSON report on stdout (every repetition and
                    the aggregates; counters "ours" and "baseline"); the table goes to stderr
  --csv FILE        also write the table as CSV to FILE (a relative FILE is taken from the
                    directory where `bazel run` was started)
  -v, --verbose     show every repetition in Google Benchmark's report on stderr, not only
                    the aggregates
  --benchmark_*     Google Benchmark's own flags (listed below), given after ours: e.g.
                    --benchmark_out=FILE --benchmark_out_format=json. Not
                    --benchmark_enable_random_interleaving: each repetition alternates ours
                    and the baseline already, and rows must not hold their set-up at once

Flags take their value as --name VALUE or --name=VALUE.

Output: Google Benchmark's report on stderr (one benchmark per comparison, named after it;
its Time column is the baseline's, which the iteration count is calibrated on), then a table
on stdout with the header NAME OURS BASELINE RATIO UNIT, one row per comparison. OURS and
BASELINE are medians over the repetitions, measured in this run with the same iteration
count and the same CPU placement, the two sides back to back in every repetition and
alternating which goes first; RATIO = OURS / BASELINE (below 1.00x: ours is faster, or
smaller). The CSV adds each side's min and max.
)";

void PrintUsage(const BenchmarkInfo& info, const std::vector<Comparison>& comparisons) {
  std::string out = absl::StrCat("usage: ", info.name, " [flags]\n\n", info.description,
                                 "\n\nComparisons (ours vs baseline):\n");
  for (const Comparison& c : comparisons) {
    absl::StrAppend(&out, "  ", c.name, "\n      ", c.description, "\n");
  }
  absl::StrAppend(&out, "\n", kFlagsHelp,
                  "\nExamples:\n  ./bazelw run -c opt //tools/bench:", info.name,
                  "\n  ./bazelw run -c opt //tools/bench:", info.name,
                  " -- --filter connect --reps 15 --csv /tmp/", info.name,
                  ".csv\n\nGoogle Benchmark's flags:\n");
  fputs(out.c_str(), stdout);
  fflush(stdout);
  benchmark::PrintDefaultHelp();
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

// Parses our flags in `args` (argv without the --benchmark_* flags) with getopt_long
// ("--name VALUE" or "--name=VALUE"); returns a message for the first bad flag.
absl::Status ParseOwnFlags(std::vector<char*> args, Flags* flags) {
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
  const int argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  char** argv = args.data();
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
        flags->verbose = true;
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
        flags->repetitions = std::min<int64_t>(reps, 1000);
        break;
      }
      case 'b': {
        ASSIGN_OR_RETURN(flags->min_batch_ms, ParseCount(name, optarg, 1));
        break;
      }
      case 'i': {
        ASSIGN_OR_RETURN(flags->iterations, ParseCount(name, optarg, 1));
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

// Returns an extended regular expression (Google Benchmark's --benchmark_filter) that finds
// `text` as written.
std::string EscapeRegex(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (absl::string_view("\\^$.|?*+()[]{}").find(c) != absl::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// Returns the value Google Benchmark takes for its flag `name`: that of the last
// --benchmark_`name`=VALUE given ("true" for a bare --benchmark_`name`), else `ours`.
std::string BenchmarkFlag(const Flags& flags, absl::string_view name, std::string ours) {
  const std::string prefix = absl::StrCat(kBenchmarkFlagPrefix, name, "=");
  for (const std::string& flag : flags.benchmark_flags) {
    if (absl::StartsWith(flag, prefix)) ours = flag.substr(prefix.size());
    if (flag == absl::string_view(prefix).substr(0, prefix.size() - 1)) ours = "true";
  }
  return ours;
}

// Returns --benchmark_min_time for --min-batch-ms, in seconds.
std::string MinTime(const Flags& flags) {
  return absl::StrCat(static_cast<double>(flags.min_batch_ms) / 1000);
}

// Whether Google Benchmark shows its report for machines (JSON, CSV) rather than people.
bool MachineFormat(const Flags& flags) {
  return BenchmarkFlag(flags, "format", flags.json ? "json" : "console") != "console";
}

// Returns Google Benchmark's command line for `flags`: what ours set, then the user's own
// --benchmark_* flags, which win.
std::vector<std::string> BenchmarkArgs(const char* argv0, const Flags& flags) {
  std::vector<std::string> args = {argv0};
  args.push_back(absl::StrCat("--benchmark_repetitions=", flags.repetitions));
  args.push_back(absl::StrCat("--benchmark_min_time=", MinTime(flags)));
  if (!flags.filters.empty()) {
    // Row names hold no '/': the text must be found in the name, not in the suffixes
    // ("/iterations:20/manual_time") that Google Benchmark appends.
    std::vector<std::string> escaped;
    for (const std::string& filter : flags.filters) escaped.push_back(EscapeRegex(filter));
    args.push_back(absl::StrCat("--benchmark_filter=^[^/]*(", absl::StrJoin(escaped, "|"), ")"));
  }
  if (flags.json) args.push_back("--benchmark_format=json");
  // On the console, a row's aggregates say enough; JSON and CSV keep every repetition.
  if (!flags.verbose && !MachineFormat(flags)) {
    args.push_back("--benchmark_display_aggregates_only=true");
  }
  args.push_back("--benchmark_counters_tabular=true");
  if (!isatty(STDERR_FILENO)) args.push_back("--benchmark_color=false");
  args.insert(args.end(), flags.benchmark_flags.begin(), flags.benchmark_flags.end());
  return args;
}

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

std::string CpuName(int cpu) { return cpu < 0 ? "not pinned" : absl::StrCat("cpu ", cpu); }

// Records how the rows are measured, in the table and in Google Benchmark's context.
void AddContext(const Flags& flags, const Placement& placement, size_t allowed_cpus,
                BenchTable* table) {
  std::vector<std::pair<std::string, std::string>> context = {
#ifdef NDEBUG
      {"build", "optimized (NDEBUG)"},
#else
      {"build", "NOT optimized: run with -c opt for meaningful figures"},
#endif
      {"figures",
       absl::StrCat("medians of ",
                    BenchmarkFlag(flags, "repetitions", absl::StrCat(flags.repetitions)),
                    " repetitions, the two sides back to back in each, alternating which goes "
                    "first; RATIO = OURS / BASELINE")},
      {"iterations", flags.iterations > 0
                         ? absl::StrCat(flags.iterations, " per side and repetition")
                         : absl::StrCat("calibrated per row so that the baseline's part of a "
                                        "repetition lasts >= ",
                                        BenchmarkFlag(flags, "min_time", MinTime(flags)), " s")},
      {"placement", absl::StrCat("benchmark on ", CpuName(placement.main_cpu), ", forked peers on ",
                                 CpuName(placement.peer_cpu), " (of ", allowed_cpus, " allowed)")},
  };
  for (auto& [key, value] : context) {
    benchmark::AddCustomContext(key, value);
    table->AddContext(key, value);
  }
}

// Runs the comparisons with Google Benchmark (those `--benchmark_filter` selects) and
// returns their rows in `table`; 1 if one failed, 2 if none was selected, else 0.
int RunComparisons(const BenchmarkInfo& info, bool machine_format,
                   std::vector<Comparison> comparisons, int64_t iterations, BenchTable* table) {
  std::vector<std::unique_ptr<ComparisonBenchmark>> benchmarks;
  std::map<std::string, ComparisonBenchmark*> by_name;
  for (Comparison& comparison : comparisons) {
    benchmarks.push_back(std::make_unique<ComparisonBenchmark>(std::move(comparison)));
    benchmarks.back()->Register(iterations);
    by_name[benchmarks.back()->comparison().name] = benchmarks.back().get();
  }
  benchmark::BenchmarkReporter* shown = benchmark::CreateDefaultDisplayReporter();
  // The table is what stdout is for, unless the report is for machines.
  if (!machine_format) shown->SetOutputStream(&std::cerr);
  // A row's resources go as soon as its runs are over: before the next row starts.
  TableReporter reporter(shown, [&by_name](const std::string& name) {
    auto benchmark = by_name.find(name);
    if (benchmark != by_name.end()) (void)benchmark->second->Finish();
  });
  const size_t matched = benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  std::cout.flush();
  if (matched == 0) {
    fprintf(stderr, "%s: no comparison matches the filter (see --list)\n", info.name);
    return 2;
  }
  int exit_code = 0;
  for (const auto& benchmark : benchmarks) {
    if (!benchmark->started()) continue;  // Not selected.
    const Comparison& comparison = benchmark->comparison();
    absl::Status status = benchmark->Finish();
    std::optional<RowFigures> figures = reporter.FiguresOf(comparison.name);
    if (status.ok() && !figures.has_value()) {
      status = absl::InternalError(absl::StrCat(comparison.name, ": no figures reported"));
    }
    if (!status.ok()) {
      fprintf(stderr, "%s: FAILED %s\n", info.name, status.ToString().c_str());
      exit_code = 1;
      continue;
    }
    table->AddRow({comparison.name, comparison.unit, figures->ours, figures->baseline,
                   figures->repetitions, benchmark->iterations()});
  }
  return exit_code;
}

}  // namespace

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

int BenchMain(int argc, char** argv, const BenchmarkInfo& info,
              const ComparisonFactory& make_comparisons) {
  Flags flags;
  std::vector<char*> own_args = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], kBenchmarkFlagPrefix)) {
      flags.benchmark_flags.push_back(argv[i]);
    } else {
      own_args.push_back(argv[i]);
    }
  }
  if (absl::Status parsed = ParseOwnFlags(own_args, &flags); !parsed.ok()) {
    fprintf(stderr, "%s: %s (see --help)\n", info.name, std::string(parsed.message()).c_str());
    return 2;
  }
  // comparison_benchmark.h: interleaving would keep every row set up at once (and fork peers
  // beside other rows' threads), and ours and the baseline alternate in every run already.
  if (std::string interleave = BenchmarkFlag(flags, "enable_random_interleaving", "false");
      interleave != "false" && interleave != "0") {
    fprintf(stderr, "%s: --benchmark_enable_random_interleaving is not supported (see --help)\n",
            info.name);
    return 2;
  }
  if (flags.help || flags.list) {
    std::vector<Comparison> comparisons = make_comparisons(Placement{});
    if (flags.help) {
      PrintUsage(info, comparisons);
    } else {
      for (const Comparison& c : comparisons) printf("%s\n", c.name.c_str());
    }
    return 0;
  }

  std::vector<std::string> benchmark_args = BenchmarkArgs(argv[0], flags);
  std::vector<char*> benchmark_argv;
  for (std::string& arg : benchmark_args) benchmark_argv.push_back(arg.data());
  int benchmark_argc = static_cast<int>(benchmark_argv.size());
  benchmark_argv.push_back(nullptr);
  benchmark::Initialize(&benchmark_argc, benchmark_argv.data());
  if (benchmark::ReportUnrecognizedArguments(benchmark_argc, benchmark_argv.data())) return 2;

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

  BenchTable table;
  AddContext(flags, placement, allowed_cpus, &table);
  const bool machine_format = MachineFormat(flags);
  int exit_code =
      RunComparisons(info, machine_format, make_comparisons(placement), flags.iterations, &table);
  if (exit_code == 2) return exit_code;

  fputs(table.FormatText().c_str(), machine_format ? stderr : stdout);
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

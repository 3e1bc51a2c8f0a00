// Tests of sel_ldr's command-line parser: every flag, in its short, long and attached forms,
// and errors that name the argument at fault.
#include "sel_ldr/options.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

absl::StatusOr<LoaderOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "sel_ldr");
  return ParseLoaderOptions(args);
}

// Expects `args` to be a usage error whose message contains each of `named`.
void ExpectUsageError(const std::vector<std::string>& args, const std::vector<std::string>& named) {
  absl::StatusOr<LoaderOptions> parsed = Parse(args);
  ASSERT_FALSE(parsed.ok()) << "parsed: " << testing::PrintToString(args);
  EXPECT_TRUE(absl::IsInvalidArgument(parsed.status())) << parsed.status();
  for (const std::string& name : named) {
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(name))
        << testing::PrintToString(args);
  }
}

// Test that the module path ends the options and the rest are the module's arguments, even
// when they look like options.
TEST(OptionsTest, ModulePathAndArguments) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"m.nexe", "-v", "--help", "x"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->module_path, "m.nexe");
  EXPECT_THAT(parsed->module_args, ElementsAre("-v", "--help", "x"));
  EXPECT_EQ(parsed->verbosity, 0);
  EXPECT_FALSE(parsed->help);
}

// Test that "--" ends the options, so a module path may start with '-'.
TEST(OptionsTest, DoubleDashEndsOptions) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-q", "--", "-odd.nexe", "a"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->quiet);
  EXPECT_EQ(parsed->module_path, "-odd.nexe");
  EXPECT_THAT(parsed->module_args, ElementsAre("a"));
}

// Test that -f names the module and everything after the options is its arguments.
TEST(OptionsTest, FileFlag) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-f", "m.nexe", "a", "b"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->module_path, "m.nexe");
  EXPECT_THAT(parsed->module_args, ElementsAre("a", "b"));
  parsed = Parse({"--file=m.nexe"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->module_path, "m.nexe");
  ExpectUsageError({"-f", "a.nexe", "-f", "b.nexe"}, {"more than one module"});
}

// One grant flag in each of its spellings, and the kind it gives.
struct GrantCase {
  std::vector<std::string> args;
  GrantedDescriptor::Kind kind;
};

// Test that -h, -r, -w and -i (short, attached, long, long with '=') grant d:D with their
// kind, and remember how they were written.
TEST(OptionsTest, GrantFlags) {
  using Kind = GrantedDescriptor::Kind;
  const GrantCase cases[] = {
      {{"-h", "5:9"}, Kind::kReadWrite},
      {{"-h5:9"}, Kind::kReadWrite},
      {{"--host-fd", "5:9"}, Kind::kReadWrite},
      {{"--host-fd=5:9"}, Kind::kReadWrite},
      {{"-r", "5:9"}, Kind::kReadOnly},
      {{"--read-fd=5:9"}, Kind::kReadOnly},
      {{"-w", "5:9"}, Kind::kWriteOnly},
      {{"--write-fd", "5:9"}, Kind::kWriteOnly},
      {{"-i", "5:9"}, Kind::kImc},
      {{"--imc-fd=5:9"}, Kind::kImc},
  };
  for (const GrantCase& c : cases) {
    std::vector<std::string> args = c.args;
    args.push_back("m.nexe");
    absl::StatusOr<LoaderOptions> parsed = Parse(args);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->descriptors.size(), 1u) << testing::PrintToString(c.args);
    EXPECT_EQ(parsed->descriptors[0].kind, c.kind) << testing::PrintToString(c.args);
    EXPECT_EQ(parsed->descriptors[0].module_descriptor, 5);
    EXPECT_EQ(parsed->descriptors[0].host_fd, 9);
    EXPECT_THAT(parsed->descriptors[0].flag, HasSubstr("5:9"));
  }
}

// Test that bad grants are refused with a message that names the flag and value.
TEST(OptionsTest, BadGrants) {
  ExpectUsageError({"-h", "5", "m"}, {"-h 5", "d:D"});
  ExpectUsageError({"-r", "a:b", "m"}, {"-r a:b", "d:D"});
  ExpectUsageError({"-w", "5:", "m"}, {"-w 5:", "d:D"});
  ExpectUsageError({"-h", "-1:9", "m"}, {"-h -1:9", "outside"});
  ExpectUsageError({"-h", "4096:9", "m"}, {"-h 4096:9", "module descriptor 4096"});
  ExpectUsageError({"-i", "5:-2", "m"}, {"-i 5:-2", "bad host fd -2"});
  ExpectUsageError({"-h", "5:9", "-r", "5:10", "m"}, {"-r 5:10", "already given by -h 5:9"});
  ExpectUsageError({"-h", "5:9", "-w", "6:9", "m"}, {"-w 6:9", "host fd 9", "-h 5:9"});
  // The host's stdio may be given twice: the loader duplicates it rather than adopting it.
  absl::StatusOr<LoaderOptions> parsed = Parse({"-w", "5:1", "-w", "6:1", "m"});
  EXPECT_TRUE(parsed.ok()) << parsed.status();
}

// Test -X: a host fd; not negative, not twice, and descriptors 3 and 4 are then taken.
TEST(OptionsTest, BootstrapFd) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-X", "7", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->bootstrap_fd, 7);
  parsed = Parse({"--bootstrap-fd=8", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->bootstrap_fd, 8);
  ExpectUsageError({"-X", "x", "m"}, {"-X x", "host fd number"});
  ExpectUsageError({"-X", "-1", "m"}, {"-X -1", "no global service socket"});
  ExpectUsageError({"-X", "7", "-X", "8", "m"}, {"-X given twice"});
  ExpectUsageError({"-X", "7", "-h", "3:9", "m"}, {"-h 3:9", "descriptors 3 and 4"});
  ExpectUsageError({"-i", "4:9", "-X", "7", "m"}, {"-i 4:9", "descriptors 3 and 4"});
  ExpectUsageError({"-X", "9", "-h", "5:9", "m"}, {"host fd 9"});
}

// Test -E (in order, '=' in values kept) and -p.
TEST(OptionsTest, Environment) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-E", "A=1", "--env=B=x=y", "-p", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_THAT(parsed->environment, ElementsAre(Pair("A", "1"), Pair("B", "x=y")));
  EXPECT_TRUE(parsed->pass_host_environment);
  parsed = Parse({"--pass-env", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->pass_host_environment);
  ExpectUsageError({"-E", "=v", "m"}, {"-E =v", "NAME=VALUE"});
}

// Test the flags without values: -v (repeatable), -q, -a, and their long forms.
TEST(OptionsTest, SwitchFlags) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-v", "--verbose", "-v", "-q", "-a", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verbosity, 3);
  EXPECT_TRUE(parsed->quiet);
  parsed = Parse({"--quiet", "--allow-files", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->quiet);
  ExpectUsageError({"--quiet=yes", "m"}, {"--quiet", "takes no value"});
}

// Test --memory-limit: bytes, M, G; zero, junk and overflow refused naming the value.
TEST(OptionsTest, MemoryLimit) {
  EXPECT_EQ(Parse({"m"})->address_space_limit, uint64_t{8} << 30);
  EXPECT_EQ(Parse({"--memory-limit", "4096", "m"})->address_space_limit, 4096u);
  EXPECT_EQ(Parse({"--memory-limit=64M", "m"})->address_space_limit, uint64_t{64} << 20);
  EXPECT_EQ(Parse({"--memory-limit", "2G", "m"})->address_space_limit, uint64_t{2} << 30);
  ExpectUsageError({"--memory-limit", "0", "m"}, {"--memory-limit 0"});
  ExpectUsageError({"--memory-limit", "12K", "m"}, {"--memory-limit 12K"});
  ExpectUsageError({"--memory-limit", "G", "m"}, {"--memory-limit G"});
  ExpectUsageError({"--memory-limit", "-5", "m"}, {"--memory-limit -5"});
  ExpectUsageError({"--memory-limit", "99999999999999999999G", "m"}, {"--memory-limit 9999"});
  ExpectUsageError({"--memory-limit=17179869184G", "m"}, {"17179869184G"});  // 2^64 bytes.
}

// Test --max-pending-connections: its default and its range.
TEST(OptionsTest, MaxPendingConnections) {
  EXPECT_EQ(Parse({"m"})->max_pending_connections, 4096);
  EXPECT_EQ(Parse({"--max-pending-connections", "10", "m"})->max_pending_connections, 10);
  EXPECT_EQ(Parse({"--max-pending-connections=1000000", "m"})->max_pending_connections, 1000000);
  ExpectUsageError({"--max-pending-connections", "0", "m"}, {"--max-pending-connections 0"});
  ExpectUsageError({"--max-pending-connections", "1000001", "m"}, {"1000001", "1..1000000"});
  ExpectUsageError({"--max-pending-connections", "many", "m"}, {"many"});
}

// Test that --help and --version need no module.
TEST(OptionsTest, HelpAndVersionNeedNoModule) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help);
  parsed = Parse({"--version"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->version);
  EXPECT_THAT(LoaderUsage(), HasSubstr("--memory-limit"));
  EXPECT_THAT(LoaderUsage(), HasSubstr("--max-pending-connections"));
}

// Test the errors of the command line's shape, each naming what is wrong.
TEST(OptionsTest, ShapeErrors) {
  ExpectUsageError({}, {"no module given"});
  ExpectUsageError({"-v"}, {"no module given"});
  ExpectUsageError({"--bogus", "m"}, {"unknown option --bogus"});
  ExpectUsageError({"--bogus=1", "m"}, {"unknown option --bogus"});
  ExpectUsageError({"-Z", "m"}, {"unknown option -Z"});
  ExpectUsageError({"-qx", "m"}, {"unknown option -x in -qx"});
  ExpectUsageError({"-xq", "m"}, {"unknown option -x in -xq"});
  ExpectUsageError({"-vh"}, {"-h needs a value"});
  ExpectUsageError({"--max=5", "m"},
                   {"ambiguous option --max", "--max-pending-connections", "--max-threads"});
  ExpectUsageError({"-h"}, {"-h needs a value"});
  ExpectUsageError({"--env"}, {"--env needs a value"});
  ExpectUsageError({"--help=1"}, {"--help takes no value"});
}

// Test that -E NAME without '=' is accepted, as NaCl's sel_ldr did, and sets NAME empty.
TEST(OptionsTest, EnvWithoutValueSetsEmpty) {
  absl::StatusOr<LoaderOptions> options =
      ParseLoaderOptions({"sel_ldr", "-E", "NAME", "-E", "A=b=c", "m.nexe"});
  ASSERT_TRUE(options.ok()) << options.status();
  ASSERT_EQ(options->environment.size(), 2u);
  EXPECT_EQ(options->environment[0], std::make_pair(std::string("NAME"), std::string()));
  EXPECT_EQ(options->environment[1], std::make_pair(std::string("A"), std::string("b=c")));
  EXPECT_FALSE(ParseLoaderOptions({"sel_ldr", "-E", "=x", "m.nexe"}).ok());
}

// Test that -vv counts twice, as --help's "repeat for more detail" says, and that short flags
// combine (-vq), also with a value attached to the last (-qh5:9).
TEST(OptionsTest, CombinedShortFlags) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-vv", "-v", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verbosity, 3);
  parsed = Parse({"-vq", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verbosity, 1);
  EXPECT_TRUE(parsed->quiet);
  parsed = Parse({"-qh5:9", "-vw", "6:1", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->quiet);
  EXPECT_EQ(parsed->verbosity, 1);
  ASSERT_EQ(parsed->descriptors.size(), 2u);
  EXPECT_EQ(parsed->descriptors[0].flag, "-h 5:9");
  EXPECT_EQ(parsed->descriptors[1].flag, "-w 6:1");
}

// Test that every long option with a value takes it both as --name=value and as --name value,
// and that messages name the option by its long name either way.
TEST(OptionsTest, LongOptionsWithEquals) {
  absl::StatusOr<LoaderOptions> parsed =
      Parse({"--memory-limit=1G", "--max-threads=7", "--max-pending-connections", "9",
             "--mount=/tmp:ro", "--env", "A=1", "--file=m.nexe", "arg"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->address_space_limit, uint64_t{1} << 30);
  EXPECT_EQ(parsed->max_threads, 7);
  EXPECT_EQ(parsed->max_pending_connections, 9);
  ASSERT_TRUE(parsed->mount.has_value());
  EXPECT_EQ(parsed->mount->directory, "/tmp");
  EXPECT_TRUE(parsed->mount->read_only);
  EXPECT_THAT(parsed->environment, ElementsAre(Pair("A", "1")));
  EXPECT_EQ(parsed->module_path, "m.nexe");
  EXPECT_THAT(parsed->module_args, ElementsAre("arg"));
  ExpectUsageError({"--max-threads=0", "m"}, {"--max-threads 0"});
  ExpectUsageError({"--host-fd=5", "m"}, {"--host-fd 5", "d:D"});
  ExpectUsageError({"--bootstrap-fd=-1", "m"}, {"--bootstrap-fd -1", "no global service"});
}

// Test that after the module path every argument is the module's, even one that is one of
// our flags or starts with '-', and that "--" lets a module be named "-x".
TEST(OptionsTest, ModuleArgumentsThatLookLikeFlags) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-v", "m.nexe", "-x", "-vv", "--", "-h"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verbosity, 1);
  EXPECT_EQ(parsed->module_path, "m.nexe");
  EXPECT_THAT(parsed->module_args, ElementsAre("-x", "-vv", "--", "-h"));
  EXPECT_TRUE(parsed->descriptors.empty());
  parsed = Parse({"-q", "--", "-x", "-v"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->module_path, "-x");
  EXPECT_THAT(parsed->module_args, ElementsAre("-v"));
  EXPECT_EQ(parsed->verbosity, 0);
  ExpectUsageError({"-x"}, {"unknown option -x"});
  // A lone "-" is a module path (as a file named "-"), not an option.
  parsed = Parse({"-", "a"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->module_path, "-");
}

// Test that the parser starts over on each call (getopt's state is global): a parse that
// stopped inside "-vq" or failed half-way does not leak into the next.
TEST(OptionsTest, ParsesRepeatedly) {
  ExpectUsageError({"-vZ", "m"}, {"unknown option -Z"});
  ExpectUsageError({"-h", "1:2", "-vq", "--bogus"}, {"--bogus"});
  for (int round = 0; round < 3; ++round) {
    absl::StatusOr<LoaderOptions> parsed = Parse({"-vv", "m.nexe", "a"});
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->verbosity, 2);
    EXPECT_EQ(parsed->module_path, "m.nexe");
    EXPECT_THAT(parsed->module_args, ElementsAre("a"));
  }
  absl::StatusOr<LoaderOptions> parsed = Parse({"m2.nexe"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->verbosity, 0);
  EXPECT_EQ(parsed->module_path, "m2.nexe");
}

// Test that -h is NaCl's host-fd grant, never help, and --help is help.
TEST(OptionsTest, DashHIsHostFdAndDashDashHelpIsHelp) {
  absl::StatusOr<LoaderOptions> parsed = Parse({"-h", "5:9", "m"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->help);
  EXPECT_EQ(parsed->descriptors.size(), 1u);
  parsed = Parse({"--help"});
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help);
  parsed = Parse({"--he"});  // An unambiguous abbreviation, as getopt_long allows.
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->help);
}

// Test that NaCl's flags that mean nothing here are accepted and leave the module to run.
TEST(OptionsTest, MeaninglessNaclFlagsAreAccepted) {
  absl::StatusOr<LoaderOptions> options =
      ParseLoaderOptions({"sel_ldr", "-e", "-S", "-Q", "-c", "-c", "-s", "-a", "m.nexe", "x"});
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->module_path, "m.nexe");
  EXPECT_EQ(options->module_args, std::vector<std::string>{"x"});
}

// Test that NaCl's flags that cannot be honoured are refused with the reason.
TEST(OptionsTest, UnsupportedNaclFlagsAreRefusedWithAReason) {
  struct Case {
    std::vector<std::string> argv;
    const char* reason;
  };
  for (const Case& c : std::vector<Case>{
           {{"sel_ldr", "-B", "irt.nexe", "m.nexe"}, "there is no IRT"},
           {{"sel_ldr", "-l", "log.txt", "m.nexe"}, "redirect it instead (2>log.txt)"},
           {{"sel_ldr", "-F", "m.nexe"}, "no load-only mode"},
           {{"sel_ldr", "-g", "m.nexe"}, "no debug stub"}}) {
    absl::StatusOr<LoaderOptions> options = ParseLoaderOptions(c.argv);
    ASSERT_FALSE(options.ok()) << c.argv[1];
    EXPECT_THAT(std::string(options.status().message()), HasSubstr(c.reason));
  }
}

// Test that --help lists every one of NaCl's flags.
TEST(OptionsTest, HelpListsNaclFlags) {
  const std::string usage = LoaderUsage();
  for (const char* flag : {"-B", "-e", "-S", "-l", "-Q", "-c", "-F", "-g", "-s", "-E NAME"}) {
    EXPECT_THAT(usage, HasSubstr(flag));
  }
}

}  // namespace
}  // namespace sel_ldr

#include "sel_ldr/options.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sel_ldr {
namespace {

using ::testing::HasSubstr;

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

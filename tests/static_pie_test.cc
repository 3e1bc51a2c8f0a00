// sel_ldr's own hardening: it is a static position-independent executable, so that nothing
// of the loader sits at an address fixed at link time (ASLR moves its code, data and heap),
// and no dynamic loader or shared library is involved in starting it.
#include <elf.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "gtest/gtest.h"
#include "tests/sel_ldr_runner.h"

namespace tests {
namespace {

// sel_ldr's bytes, or empty (with a test failure).
std::vector<char> ReadSelLdr() {
  base::UniqueFd fd(open(SelLdrPath().c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd.valid() || fstat(fd.get(), &st) != 0) {
    ADD_FAILURE() << "cannot open " << SelLdrPath();
    return {};
  }
  std::vector<char> bytes(static_cast<size_t>(st.st_size));
  if (pread(fd.get(), bytes.data(), bytes.size(), 0) != st.st_size) {
    ADD_FAILURE() << "cannot read " << SelLdrPath();
    return {};
  }
  return bytes;
}

// The program headers of `elf`, checked to lie inside it.
std::vector<Elf64_Phdr> ProgramHeaders(const std::vector<char>& elf) {
  Elf64_Ehdr header;
  memcpy(&header, elf.data(), sizeof(header));
  std::vector<Elf64_Phdr> headers;
  for (size_t i = 0; i < header.e_phnum; ++i) {
    const size_t offset = header.e_phoff + i * sizeof(Elf64_Phdr);
    if (header.e_phentsize != sizeof(Elf64_Phdr) || offset + sizeof(Elf64_Phdr) > elf.size()) {
      ADD_FAILURE() << "program header " << i << " is outside the file";
      return {};
    }
    Elf64_Phdr phdr;
    memcpy(&phdr, elf.data() + offset, sizeof(phdr));
    headers.push_back(phdr);
  }
  return headers;
}

#ifndef SEL_LDR_SANITIZED

// Test that sel_ldr is a position-independent (ET_DYN) x86-64 executable that names no
// program interpreter: the kernel maps it at a random base and it relocates itself.
TEST(StaticPieTest, SelLdrIsPositionIndependentWithoutInterpreter) {
  const std::vector<char> elf = ReadSelLdr();
  ASSERT_GE(elf.size(), sizeof(Elf64_Ehdr));
  Elf64_Ehdr header;
  memcpy(&header, elf.data(), sizeof(header));
  ASSERT_EQ(memcmp(header.e_ident, ELFMAG, SELFMAG), 0);
  EXPECT_EQ(header.e_ident[EI_CLASS], ELFCLASS64);
  EXPECT_EQ(header.e_machine, EM_X86_64);
  EXPECT_EQ(header.e_type, ET_DYN);
  int loads = 0;
  for (const Elf64_Phdr& phdr : ProgramHeaders(elf)) {
    EXPECT_NE(phdr.p_type, PT_INTERP) << "sel_ldr needs a dynamic loader";
    if (phdr.p_type == PT_LOAD) ++loads;
  }
  EXPECT_GT(loads, 0);
}

// Test that sel_ldr's dynamic section (which a static PIE keeps for its own relocations)
// needs no shared library.
TEST(StaticPieTest, SelLdrNeedsNoSharedLibrary) {
  const std::vector<char> elf = ReadSelLdr();
  ASSERT_GE(elf.size(), sizeof(Elf64_Ehdr));
  for (const Elf64_Phdr& phdr : ProgramHeaders(elf)) {
    if (phdr.p_type != PT_DYNAMIC) continue;
    ASSERT_LE(phdr.p_offset + phdr.p_filesz, elf.size());
    for (size_t at = 0; at + sizeof(Elf64_Dyn) <= phdr.p_filesz; at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn entry;
      memcpy(&entry, elf.data() + phdr.p_offset + at, sizeof(entry));
      if (entry.d_tag == DT_NULL) break;
      EXPECT_NE(entry.d_tag, DT_NEEDED) << "sel_ldr links a shared library";
    }
  }
}

#else

// Test that a sanitized sel_ldr is still position independent (ET_DYN): a sanitizer runtime
// needs the dynamic loader, so sanitized builds link it as an ordinary PIE.
TEST(StaticPieTest, SanitizedBuildIsPositionIndependent) {
  const std::vector<char> elf = ReadSelLdr();
  ASSERT_GE(elf.size(), sizeof(Elf64_Ehdr));
  Elf64_Ehdr header;
  memcpy(&header, elf.data(), sizeof(header));
  EXPECT_EQ(header.e_type, ET_DYN);
  EXPECT_FALSE(ProgramHeaders(elf).empty());
}

#endif  // SEL_LDR_SANITIZED

}  // namespace
}  // namespace tests

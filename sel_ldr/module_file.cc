#include "sel_ldr/module_file.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/errno_status.h"

namespace sel_ldr {
namespace {

absl::Status NotAModule(absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat("not a module: ", why));
}

}  // namespace

absl::StatusOr<base::UniqueFd> OpenModule(const std::string& path) {
  base::UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    // Only a missing file (or path) is "not found" (sel_ldr exits 127 for it, as a shell does
    // for a missing command); a file that exists but cannot be opened (EACCES, ELOOP, ...)
    // is another failure (126).
    if (error == ENOENT || error == ENOTDIR) {
      return absl::NotFoundError(absl::StrCat("cannot open: ", strerror(error)));
    }
    return base::ErrnoStatus(error, "cannot open");
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return base::ErrnoStatus(errno, "fstat");
  if (!S_ISREG(st.st_mode)) return NotAModule("not a regular file");

  Elf64_Ehdr header;
  ssize_t n = pread(fd.get(), &header, sizeof(header), 0);
  if (n != static_cast<ssize_t>(sizeof(header)) || memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return NotAModule("not an ELF file");
  }
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_machine != EM_X86_64) {
    return NotAModule("not an x86-64 ELF file (modules are 64-bit x86-64)");
  }
  if (header.e_type != ET_EXEC && header.e_type != ET_DYN) {
    return NotAModule("not an ELF executable (an object file or core dump?)");
  }
  if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 || header.e_phnum > 512) {
    return NotAModule("malformed ELF program headers");
  }
  std::vector<Elf64_Phdr> program(header.e_phnum);
  size_t bytes = program.size() * sizeof(Elf64_Phdr);
  if (pread(fd.get(), program.data(), bytes, static_cast<off_t>(header.e_phoff)) !=
      static_cast<ssize_t>(bytes)) {
    return NotAModule("truncated ELF program headers");
  }
  for (const Elf64_Phdr& segment : program) {
    if (segment.p_type == PT_INTERP) {
      return NotAModule(
          "dynamically linked (it needs an ELF interpreter); modules must be static: build "
          "with tools/nacl-cc or link with -static");
    }
  }
  return fd;
}

}  // namespace sel_ldr

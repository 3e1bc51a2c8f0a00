#include "imc/shared_memory.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/errno_status.h"
#include "base/status_macros.h"
#include "imc/descriptor.h"

namespace imc {

absl::StatusOr<SharedMemory> SharedMemory::Create(size_t size) {
  if (size == 0 || size > static_cast<size_t>(INT64_MAX)) {
    return base::ErrnoStatus(EINVAL, "shared memory size out of range");
  }
  base::UniqueFd fd(memfd_create("imc-shared-memory", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) return base::ErrnoStatus(errno, "memfd_create");
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return base::ErrnoStatus(errno, "ftruncate shared memory");
  }
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    return base::ErrnoStatus(errno, "seal shared memory");
  }
  return SharedMemory(std::move(fd), size);
}

absl::StatusOr<SharedMemory> SharedMemory::FromFd(base::UniqueFd fd) {
  RETURN_IF_ERROR(CheckDescriptorKind(fd.get(), DescriptorKind::kSharedMemory));
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return base::ErrnoStatus(errno, "fstat shared memory");
  return SharedMemory(std::move(fd), static_cast<size_t>(st.st_size));
}

}  // namespace imc

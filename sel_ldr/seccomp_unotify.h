// Seccomp user-notification constants newer than Debian 12's kernel headers (Linux 6.6).
// Kernels without them reject the ioctl, and callers fall back.
#ifndef SEL_LDR_SECCOMP_UNOTIFY_H_
#define SEL_LDR_SECCOMP_UNOTIFY_H_

#include <linux/seccomp.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1
#endif

#endif  // SEL_LDR_SECCOMP_UNOTIFY_H_

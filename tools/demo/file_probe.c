/* file_probe: tries to read a host file, then to create one, and says what happened. The
 * demo runs it to show that a module reaches no file: without a grant both are refused
 * with EACCES, as Native Client refused them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *read_path = argc > 1 ? argv[1] : "/etc/passwd";
  const char *create_path = argc > 2 ? argv[2] : "/tmp/sel_ldr_demo_file";
  int fd = open(read_path, O_RDONLY);
  printf("open(\"%s\", O_RDONLY) = %d (%s)\n", read_path, fd, fd < 0 ? strerror(errno) : "opened!");
  fflush(stdout);
  fd = open(create_path, O_WRONLY | O_CREAT, 0600);
  printf("open(\"%s\", O_CREAT) = %d (%s)\n", create_path, fd,
         fd < 0 ? strerror(errno) : "created!");
  return 0;
}

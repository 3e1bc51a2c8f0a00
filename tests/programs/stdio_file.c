/* Buffered I/O on a granted file: fdopen, fprintf, fseek, fgets, ftell, ftruncate, pread,
 * an append stream on a dup, fstat. argv[1] is the file's descriptor. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = atoi(argv[1]);
  FILE *f = fdopen(fd, "r+");
  if (f == NULL) {
    perror("fdopen");
    return 1;
  }
  for (int i = 0; i < 100; ++i) fprintf(f, "line %d: %s\n", i, i % 2 ? "odd" : "even");
  fflush(f);
  printf("after writing: ftell %ld\n", ftell(f));
  fseek(f, 0, SEEK_SET);
  char line[64];
  int lines = 0;
  long sum = 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    ++lines;
    sum += (long)strlen(line);
  }
  printf("read back %d lines, %ld bytes\n", lines, sum);
  if (ftruncate(fileno(f), 40) != 0) perror("ftruncate");
  struct stat st;
  fstat(fileno(f), &st);
  printf("truncated size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  char head[16] = {0};
  printf("pread %zd: %.15s\n", pread(fileno(f), head, 15, 8), head);
  int flags = fcntl(fileno(f), F_GETFL);
  printf("access %s\n", (flags & O_ACCMODE) == O_RDWR ? "read-write" : "other");
  FILE *a = fdopen(dup(fileno(f)), "a");
  if (a == NULL) {
    perror("fdopen a");
    return 1;
  }
  fputs("appended\n", a);
  fclose(a);
  printf("append flag %d\n", (fcntl(fileno(f), F_GETFL) & O_APPEND) != 0);
  fseek(f, 0, SEEK_END);
  printf("size after append %ld\n", ftell(f));
  fseek(f, 40, SEEK_SET);
  printf("tail: %s", fgets(line, sizeof(line), f));
  fsync(fileno(f));
  fclose(f);
  return 0;
}

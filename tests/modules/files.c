/* files: uses the directory sel_ldr mounts as its root (-m DIR[:ro]), and tries to get out of
 * it. The case is the first argument:
 *
 *   ordinary            writes, reads back, lists, makes and removes a directory, renames;
 *                       prints one line per step ("<step>: <result>").
 *   read PATH...        opens each PATH for reading: "read PATH: ok <first line>" or
 *                       "read PATH: <errno name>".
 *   write PATH...       opens each PATH for writing (creating, truncating) and writes "PWNED":
 *                       "write PATH: ok" or "write PATH: <errno name>". Then for each PATH
 *                       also mkdir, unlink, rmdir, and rename of PATH to "/stolen" and of
 *                       "/bait" to PATH, each reported the same way.
 *   readonly            tries every call that changes the directory: each must be EROFS.
 *   loop PATH N         opens PATH N times for reading; prints "loop <content>: <count>"
 *                       per distinct first line (or errno name) seen.
 *   loop_write PATH N   opens PATH N times for appending and writes "X".
 *   race N              a thread renames /race/a/b to /race/b and back while this thread opens
 *                       /race/a/b/../../../secret N times; prints as loop does.
 *   fds N               prints "baseline", waits for a line on stdin, makes N good and bad
 *                       path calls, prints "after", waits for a line on stdin. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/modules/report.h"

static void Report(const char *step, const char *path, int result) {
  printf("%s %s: %s\n", step, path, result < 0 ? ErrnoName(errno) : "ok");
  fflush(stdout);
}

/* Reads the first line of `fd` into `line` (without its newline). */
static void FirstLine(int fd, char *line, size_t size) {
  ssize_t n = read(fd, line, size - 1);
  if (n < 0) n = 0;
  line[n] = '\0';
  char *newline = strchr(line, '\n');
  if (newline != NULL) *newline = '\0';
}

static int Compare(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void List(const char *path) {
  DIR *dir = opendir(path);
  if (dir == NULL) {
    Report("list", path, -1);
    return;
  }
  char *names[64];
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL && count < 64) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    names[count++] = strdup(entry->d_name);
  }
  closedir(dir);
  qsort(names, (size_t)count, sizeof(names[0]), Compare);
  printf("list %s:", path);
  for (int i = 0; i < count; ++i) {
    printf(" %s", names[i]);
    free(names[i]);
  }
  printf("\n");
  fflush(stdout);
}

static int Ordinary(void) {
  FILE *out = fopen("/data.txt", "w");
  if (out == NULL) Fail("fopen /data.txt for writing");
  fprintf(out, "hello from the module\n");
  if (fclose(out) != 0) Fail("fclose");
  char line[256] = "";
  FILE *in = fopen("data.txt", "r"); /* Relative: the working directory is the root. */
  if (in == NULL) Fail("fopen data.txt for reading");
  if (fgets(line, sizeof line, in) == NULL) Fail("fgets");
  fclose(in);
  printf("read back: %s", line);
  struct stat st;
  Report("stat", "/data.txt", stat("/data.txt", &st));
  printf("size: %lld regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
  Report("access", "/data.txt", access("/data.txt", R_OK | W_OK));
  Report("mkdir", "/sub", mkdir("/sub", 0755));
  Report("mkdir", "/sub/empty", mkdir("/sub/empty", 0755));
  Report("rmdir", "/sub/empty", rmdir("/sub/empty"));
  Report("rename", "/data.txt", rename("/data.txt", "/sub/renamed.txt"));
  Report("symlink readlink", "/link", (int)readlink("/link", line, sizeof line));
  int dir = open("/sub", O_RDONLY | O_DIRECTORY);
  Report("open", "/sub", dir);
  int file = openat(dir, "renamed.txt", O_RDONLY);
  Report("openat", "renamed.txt", file);
  FirstLine(file, line, sizeof line);
  printf("openat read: %s\n", line);
  close(file);
  file = openat(dir, "../sub/renamed.txt", O_RDONLY); /* ".." from a directory descriptor. */
  Report("openat", "../sub/renamed.txt", file);
  close(file);
  Report("unlinkat", "gone.txt", unlinkat(dir, "gone.txt", 0));
  close(dir);
  Report("read", "/sub", (int)read(open("/sub", O_RDONLY | O_DIRECTORY), line, 1));
  List("/");
  List("/sub");
  return 0;
}

static int ReadPaths(int argc, char **argv) {
  for (int i = 2; i < argc; ++i) {
    int fd = open(argv[i], O_RDONLY);
    if (fd < 0) {
      Report("read", argv[i], -1);
      continue;
    }
    char line[256];
    FirstLine(fd, line, sizeof line);
    close(fd);
    printf("read %s: ok %s\n", argv[i], line);
    fflush(stdout);
  }
  return 0;
}

static int WritePaths(int argc, char **argv) {
  for (int i = 2; i < argc; ++i) {
    int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0 && write(fd, "PWNED", 5) != 5) Fail("write");
    Report("write", argv[i], fd);
    if (fd >= 0) close(fd);
    Report("mkdir", argv[i], mkdir(argv[i], 0755));
    Report("unlink", argv[i], unlink(argv[i]));
    Report("rmdir", argv[i], rmdir(argv[i]));
    Report("rename-from", argv[i], rename(argv[i], "/stolen"));
    Report("rename-to", argv[i], rename("/bait", argv[i]));
  }
  return 0;
}

static int ReadOnly(void) {
  char buffer[16];
  int fd = open("/data.txt", O_RDONLY);
  Report("read-open", "/data.txt", fd);
  Report("read", "/data.txt", (int)read(fd, buffer, sizeof buffer));
  Report("write-via-read-fd", "/data.txt", (int)write(fd, "x", 1));
  close(fd);
  Report("open-wronly", "/data.txt", open("/data.txt", O_WRONLY));
  Report("open-rdwr", "/data.txt", open("/data.txt", O_RDWR));
  Report("open-trunc", "/data.txt", open("/data.txt", O_RDONLY | O_TRUNC));
  Report("open-creat", "/new.txt", open("/new.txt", O_RDONLY | O_CREAT, 0644));
  Report("creat", "/new.txt", creat("/new.txt", 0644));
  Report("access-w", "/data.txt", access("/data.txt", W_OK));
  Report("mkdir", "/newdir", mkdir("/newdir", 0755));
  Report("unlink", "/data.txt", unlink("/data.txt"));
  Report("rmdir", "/dir", rmdir("/dir"));
  Report("rename", "/data.txt", rename("/data.txt", "/moved.txt"));
  return 0;
}

/* Counts distinct outcomes of `attempt` (a first line, or an errno name). */
struct Tally {
  char what[8][64];
  long count[8];
  int used;
};

static void Count(struct Tally *tally, const char *what) {
  for (int i = 0; i < tally->used; ++i) {
    if (strcmp(tally->what[i], what) == 0) {
      ++tally->count[i];
      return;
    }
  }
  if (tally->used == 8) return;
  snprintf(tally->what[tally->used], sizeof tally->what[0], "%s", what);
  tally->count[tally->used++] = 1;
}

static void OpenAndTally(struct Tally *tally, const char *path, int flags) {
  int fd = open(path, flags, 0644);
  if (fd < 0) {
    Count(tally, ErrnoName(errno));
    return;
  }
  char line[64] = "";
  if ((flags & O_ACCMODE) == O_RDONLY) {
    FirstLine(fd, line, sizeof line);
  } else {
    snprintf(line, sizeof line, "%s", write(fd, "X", 1) == 1 ? "wrote" : ErrnoName(errno));
  }
  close(fd);
  Count(tally, line);
}

static void PrintTally(const struct Tally *tally) {
  for (int i = 0; i < tally->used; ++i) printf("loop %s: %ld\n", tally->what[i], tally->count[i]);
  fflush(stdout);
}

static volatile int racing = 1;

static void *Renamer(void *unused) {
  (void)unused;
  while (racing) {
    rename("/race/a/b", "/race/b");
    rename("/race/b", "/race/a/b");
  }
  return NULL;
}

static void WaitForLine(void) {
  char line[16];
  if (fgets(line, sizeof line, stdin) == NULL) Fail("fgets stdin");
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *which = argv[1];
  if (strcmp(which, "ordinary") == 0) return Ordinary();
  if (strcmp(which, "read") == 0) return ReadPaths(argc, argv);
  if (strcmp(which, "write") == 0) return WritePaths(argc, argv);
  if (strcmp(which, "readonly") == 0) return ReadOnly();
  struct Tally tally = {0};
  if ((strcmp(which, "loop") == 0 || strcmp(which, "loop_write") == 0) && argc == 4) {
    const int flags = which[4] == '\0' ? O_RDONLY : (O_WRONLY | O_APPEND);
    for (long i = atol(argv[3]); i > 0; --i) OpenAndTally(&tally, argv[2], flags);
    PrintTally(&tally);
    return 0;
  }
  if (strcmp(which, "race") == 0 && argc == 3) {
    pthread_t thread;
    if (pthread_create(&thread, NULL, Renamer, NULL) != 0) Fail("pthread_create");
    for (long i = atol(argv[2]); i > 0; --i) {
      OpenAndTally(&tally, "/race/a/b/../../../secret", O_RDONLY);
      OpenAndTally(&tally, "/race/a/b/up/secret", O_RDONLY); /* up -> ../../.. */
    }
    racing = 0;
    pthread_join(thread, NULL);
    PrintTally(&tally);
    return 0;
  }
  if (strcmp(which, "fds") == 0 && argc == 3) {
    printf("baseline\n");
    fflush(stdout);
    WaitForLine();
    char buffer[64];
    struct stat st;
    for (long i = atol(argv[2]); i > 0; --i) {
      int fd = open("/data.txt", O_RDONLY);
      if (fd < 0) Fail("open /data.txt");
      close(fd);
      fd = open("/", O_RDONLY | O_DIRECTORY);
      if (fd < 0) Fail("open /");
      close(fd);
      open("/missing", O_RDONLY);
      open("/data.txt/x", O_RDONLY);
      open("/../../etc/passwd", O_RDONLY | O_DIRECTORY);
      stat("/data.txt", &st);
      stat("/missing", &st);
      readlink("/data.txt", buffer, sizeof buffer);
      mkdir("/d", 0755);
      rename("/d", "/e");
      rmdir("/e");
      unlink("/missing");
      access("/missing", R_OK);
    }
    printf("after\n");
    fflush(stdout);
    WaitForLine();
    return 0;
  }
  return 2;
}

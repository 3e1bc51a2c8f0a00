/* A poll/select event loop over message channels and pipes fed by threads: each producer
 * writes numbered records and closes its end; the loop reads whatever is ready until every
 * source reached its end, then prints per-source totals. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "tests/programs/channel.h"

enum { kSources = 4, kRecords = 200 };

struct source {
  int read_end;
  int write_end;
  int is_channel;
  long bytes;
  long records;
  long checksum;
};

static void *produce(void *arg) {
  struct source *s = arg;
  for (int i = 0; i < kRecords; ++i) {
    char record[32];
    int n = snprintf(record, sizeof(record), "%d:%d;", s->is_channel, i);
    ssize_t sent = s->is_channel ? channel_send(s->write_end, record, (size_t)n)
                                 : write(s->write_end, record, (size_t)n);
    if (sent != n) {
      fprintf(stderr, "send failed\n");
      return NULL;
    }
    if (i % 50 == 0) usleep(1000);
  }
  close(s->write_end);
  return NULL;
}

int main(void) {
  struct source sources[kSources];
  memset(sources, 0, sizeof(sources));
  for (int i = 0; i < kSources; ++i) {
    int fds[2];
    sources[i].is_channel = i % 2;
    if ((sources[i].is_channel ? channel_pair(fds) : pipe(fds)) != 0) {
      perror("pair");
      return 1;
    }
    sources[i].read_end = fds[0];
    sources[i].write_end = fds[1];
  }
  /* The pipe read ends are nonblocking: the loop drains them until EAGAIN. */
  for (int i = 0; i < kSources; i += 2) {
    fcntl(sources[i].read_end, F_SETFL, fcntl(sources[i].read_end, F_GETFL) | O_NONBLOCK);
  }
  pthread_t threads[kSources];
  for (int i = 0; i < kSources; ++i) pthread_create(&threads[i], NULL, produce, &sources[i]);

  int open_sources = kSources;
  int polls = 0;
  while (open_sources > 0) {
    struct pollfd fds[kSources];
    int map[kSources];
    int n = 0;
    for (int i = 0; i < kSources; ++i) {
      if (sources[i].read_end < 0) continue;
      fds[n].fd = sources[i].read_end;
      fds[n].events = POLLIN;
      fds[n].revents = 0;
      map[n++] = i;
    }
    int ready;
    if (polls++ % 2 == 0) {
      ready = poll(fds, (nfds_t)n, 5000);
    } else {
      fd_set in;
      FD_ZERO(&in);
      int max = -1;
      for (int k = 0; k < n; ++k) {
        FD_SET(fds[k].fd, &in);
        if (fds[k].fd > max) max = fds[k].fd;
      }
      struct timeval tv = {5, 0};
      ready = select(max + 1, &in, NULL, NULL, &tv);
      for (int k = 0; k < n; ++k) fds[k].revents = FD_ISSET(fds[k].fd, &in) ? POLLIN : 0;
    }
    if (ready <= 0) {
      fprintf(stderr, "poll: %d\n", ready);
      return 1;
    }
    for (int k = 0; k < n; ++k) {
      if (fds[k].revents == 0) continue;
      struct source *s = &sources[map[k]];
      for (;;) {
        char buffer[512];
        ssize_t got = s->is_channel ? channel_recv(s->read_end, buffer, sizeof(buffer))
                                    : read(s->read_end, buffer, sizeof(buffer));
        if (got < 0 && errno == EAGAIN) break;
        if (got <= 0) {
          close(s->read_end);
          s->read_end = -1;
          --open_sources;
          break;
        }
        s->bytes += got;
        for (ssize_t b = 0; b < got; ++b) {
          if (buffer[b] == ';') ++s->records;
          s->checksum = (s->checksum * 31 + buffer[b]) % 1000003;
        }
        if (s->is_channel) break; /* One message per readiness: a channel read blocks. */
      }
    }
  }
  for (int i = 0; i < kSources; ++i) pthread_join(threads[i], NULL);
  for (int i = 0; i < kSources; ++i) {
    printf("source %d (%s): %ld records, %ld bytes, checksum %ld\n", i,
           sources[i].is_channel ? "channel" : "pipe", sources[i].records, sources[i].bytes,
           sources[i].checksum);
  }
  /* poll as a sleep, and a timeout over a quiet pipe. */
  int quiet[2];
  pipe(quiet);
  struct pollfd q = {quiet[0], POLLIN, 0};
  printf("quiet poll: %d\n", poll(&q, 1, 20));
  printf("sleep poll: %d\n", poll(NULL, 0, 10));
  close(quiet[1]);
  printf("after close: %d hup %d\n", poll(&q, 1, 1000), (q.revents & POLLHUP) != 0);
  return 0;
}

/* shared_memory: two modules share one memory object over ConnectedSocket 3 (sel_ldr -i).
 *
 * "creator" makes the object, maps it, writes a greeting at offset 0, sends the descriptor
 * and waits for the peer's answer; then it checks the peer's reply at offset 32768.
 * "peer" receives the descriptor, maps it, checks the greeting, writes its reply, and
 * answers. Each prints what it saw and exits 0 if all held. */
#include <nacl/imc_syscalls.h>
#include <nacl/syscalls.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/modules/report.h"

enum { kChannel = 3, kSize = 2 * NACL_ABI_MAP_PAGESIZE, kReplyOffset = 32768 };

static const char kGreeting[] = "written by the creator";
static const char kReply[] = "written by the peer";

static int SendNote(const char *note, int *descv, size_t desc_length) {
  struct NaClAbiNaClImcMsgIoVec iov = {(void *)note, strlen(note)};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, desc_length, 0};
  return imc_sendmsg(kChannel, &header, 0);
}

static int ReceiveNote(char *note, size_t size, int *descv, size_t desc_length) {
  struct NaClAbiNaClImcMsgIoVec iov = {note, size - 1};
  struct NaClAbiNaClImcMsgHdr header = {&iov, 1, descv, desc_length, 0};
  int n = imc_recvmsg(kChannel, &header, 0);
  if (n < 0) Fail("imc_recvmsg");
  note[n] = '\0';
  return (int)header.desc_length;
}

static char *Map(int memory) {
  char *p = mmap(NULL, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, memory, 0);
  if (p == MAP_FAILED) Fail("mmap of the shared memory descriptor");
  return p;
}

static int Creator(void) {
  int memory = imc_mem_obj_create(kSize);
  if (memory < 0) Fail("imc_mem_obj_create");
  char *p = Map(memory);
  memcpy(p, kGreeting, sizeof(kGreeting));
  if (SendNote("here", &memory, 1) < 0) Fail("send the descriptor");
  char note[32];
  ReceiveNote(note, sizeof(note), NULL, 0);
  printf("creator: peer says '%s', offset %d holds '%s'\n", note, kReplyOffset, p + kReplyOffset);
  return strcmp(p + kReplyOffset, kReply) == 0 ? 0 : 1;
}

static int Peer(void) {
  char note[32];
  int memory = -1;
  if (ReceiveNote(note, sizeof(note), &memory, 1) != 1 || memory < 0) {
    printf("peer: no descriptor arrived\n");
    return 1;
  }
  struct nacl_abi_stat st;
  if (nacl_fstat(memory, &st) != 0) Fail("fstat");
  char *p = Map(memory);
  printf("peer: got a %lld-byte object, offset 0 holds '%s'\n", (long long)st.nacl_abi_st_size, p);
  if (strcmp(p, kGreeting) != 0) return 1;
  memcpy(p + kReplyOffset, kReply, sizeof(kReply));
  if (SendNote("done", NULL, 0) < 0) Fail("answer");
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char *role = argc > 1 ? argv[1] : "";
  if (strcmp(role, "creator") == 0) return Creator();
  if (strcmp(role, "peer") == 0) return Peer();
  printf("usage: shared_memory creator|peer\n");
  return 2;
}

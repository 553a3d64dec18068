/*
 * The C client of the RPC benchmark: one libtirpc handle over TCP to
 * 127.0.0.1:PORT, calling one procedure of bench/fixtures/echo.x in a loop,
 * one call at a time (clnt_call is synchronous).
 *
 * Built at benchmark time by bench/lib/c-peers.ts (never committed as a binary):
 *   gcc -O2 -I/usr/include/tirpc echo-client.c echo_xdr.c -ltirpc
 *
 * Usage: echo-client PORT small|bulk CALLS WARMUP
 * Makes WARMUP calls untimed, then CALLS calls, each timed with
 * CLOCK_MONOTONIC, and prints one line:
 *   <elapsed ns> <p50 ns> <p99 ns>
 * (percentiles by nearest rank over the CALLS calls). The first reply is
 * compared with the argument: a difference exits 3, a failed call 2, a
 * usage error 64. The arguments are those of bench/rpc.ts: a 20-character
 * name and sixteen ints, or 65,536 bytes of byte i = (i * 7 + 3) & 255.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <rpc/rpc.h>
#include "echo.h"

#define BULK_BYTES 65536

static const struct timeval call_timeout = { 25, 0 };

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
  return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p of the values at or below it. */
static uint64_t percentile(const uint64_t *sorted, long n, double p) {
  long rank = (long) ((p * (double) n) + 0.999999999);
  if (rank < 1) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

static void fail(CLIENT *cl, enum clnt_stat stat) {
  (void) stat;
  fprintf(stderr, "%s\n", clnt_sperror(cl, "echo-client"));
  exit(2);
}

int main(int argc, char **argv) {
  struct sockaddr_in sin;
  struct netbuf addr;
  CLIENT *cl;
  int fd, is_bulk;
  long calls, warmup, i;
  uint64_t *lat, start, t0;
  int list[16] = { 0, 1, -1, 127, 128, -128, 65535, 65536, -65536, 2147483647, -2147483647 - 1,
                   12345678, -12345678, 42, 7, 99 };
  small small_args, small_res;
  bulk bulk_args, bulk_res;

  if (argc != 5 || (strcmp(argv[2], "small") != 0 && strcmp(argv[2], "bulk") != 0)) {
    fprintf(stderr, "usage: echo-client PORT small|bulk CALLS WARMUP\n");
    return 64;
  }
  is_bulk = strcmp(argv[2], "bulk") == 0;
  calls = atol(argv[3]);
  warmup = atol(argv[4]);
  if (calls < 1 || warmup < 0) {
    fprintf(stderr, "echo-client: CALLS must be at least 1 and WARMUP at least 0\n");
    return 64;
  }

  small_args.id = 1234567;
  small_args.name = "Ada Lovelace, Byron!";
  small_args.score = 98.625001;
  small_args.list.list_len = 16;
  small_args.list.list_val = list;
  bulk_args.bulk_len = BULK_BYTES;
  bulk_args.bulk_val = malloc(BULK_BYTES);
  lat = malloc(sizeof *lat * (size_t) calls);
  if (bulk_args.bulk_val == NULL || lat == NULL) {
    perror("echo-client: malloc");
    return 1;
  }
  for (i = 0; i < BULK_BYTES; i++) bulk_args.bulk_val[i] = (char) ((i * 7 + 3) & 255);

  fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short) atoi(argv[1]));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.maxlen = addr.len = sizeof sin;
  addr.buf = &sin;
  /* clnt_vc_create takes the address as it is, with no rpcbind; 0, 0: default buffers. */
  cl = clnt_vc_create(fd, &addr, ECHO_PROG, ECHO_V1, 0, 0);
  if (cl == NULL) {
    fprintf(stderr, "%s\n", clnt_spcreateerror("echo-client"));
    return 2;
  }
  clnt_control(cl, CLSET_FD_CLOSE, NULL);

  start = now_ns();
  for (i = -warmup; i < calls; i++) {
    enum clnt_stat stat;
    t0 = now_ns();
    if (is_bulk) {
      memset(&bulk_res, 0, sizeof bulk_res);
      stat = clnt_call(cl, ECHO_BULK, (xdrproc_t) xdr_bulk, (char *) &bulk_args, (xdrproc_t) xdr_bulk,
                       (char *) &bulk_res, call_timeout);
      if (stat != RPC_SUCCESS) fail(cl, stat);
      if (i == -warmup && (bulk_res.bulk_len != BULK_BYTES ||
                           memcmp(bulk_res.bulk_val, bulk_args.bulk_val, BULK_BYTES) != 0)) {
        fprintf(stderr, "echo-client: the bulk reply differs from the argument\n");
        return 3;
      }
      xdr_free((xdrproc_t) xdr_bulk, (char *) &bulk_res);
    } else {
      memset(&small_res, 0, sizeof small_res);
      stat = clnt_call(cl, ECHO_SMALL, (xdrproc_t) xdr_small, (char *) &small_args, (xdrproc_t) xdr_small,
                       (char *) &small_res, call_timeout);
      if (stat != RPC_SUCCESS) fail(cl, stat);
      if (i == -warmup &&
          (small_res.id != small_args.id || strcmp(small_res.name, small_args.name) != 0 ||
           small_res.score != small_args.score || small_res.list.list_len != 16 ||
           memcmp(small_res.list.list_val, list, sizeof list) != 0)) {
        fprintf(stderr, "echo-client: the small reply differs from the argument\n");
        return 3;
      }
      xdr_free((xdrproc_t) xdr_small, (char *) &small_res);
    }
    if (i == 0) start = t0;
    if (i >= 0) lat[i] = now_ns() - t0;
  }
  {
    uint64_t elapsed = now_ns() - start;
    qsort(lat, (size_t) calls, sizeof *lat, compare_u64);
    printf("%llu %llu %llu\n", (unsigned long long) elapsed, (unsigned long long) percentile(lat, calls, 0.5),
           (unsigned long long) percentile(lat, calls, 0.99));
  }
  clnt_destroy(cl);
  free(lat);
  free(bulk_args.bulk_val);
  return 0;
}

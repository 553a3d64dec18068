/*
 * The C client of the binder benchmark: lookups of registered programs,
 * asked of a binder (ours or Debian's rpcbind) on 127.0.0.1:PORT, each
 * answer compared with the address that was registered.
 *
 * Built at benchmark time by bench/lib/c-lookup.ts (never committed as a binary):
 *   gcc -O2 -I/usr/include/tirpc lookup-client.c -ltirpc
 *
 * Usage: lookup-client MODE PORT tcp|udp getaddr|getport PROG_BASE COUNT PORT_BASE CALLS WARMUP IN_FLIGHT
 *
 * The lookups go round the COUNT programs PROG_BASE … PROG_BASE+COUNT-1,
 * version 1, each registered on the transport asked over at 127.0.0.1 and
 * port PORT_BASE + its index: GETADDR (rpcbind version 3, RFC 1833 §2.2.1)
 * must answer "127.0.0.1.P1.P2", GETPORT (portmapper version 2, RFC 1833
 * §3.2) the port.
 *
 * MODE tirpc: libtirpc's clnt_vc_create / clnt_dg_create and clnt_call
 * with xdr_rpcb / xdr_pmap, one call at a time (IN_FLIGHT must be 1): what
 * rpcb_getaddr and pmap_getport do once they have a handle.
 *
 * MODE raw: the calls encoded by hand into ready-made messages, IN_FLIGHT
 * of them outstanding on one socket (TCP: record marking, RFC 5531 §11;
 * the calls answered by one read are sent again in one write). The
 * cheapest client we could write, so that what is measured is the binder.
 *
 * Makes WARMUP lookups untimed, then CALLS timed, each from its send to its
 * reply with CLOCK_MONOTONIC, and prints one line:
 *   <elapsed ns> <p50 ns> <p99 ns>
 * A failed call or a wrong answer exits 2, a lost UDP reply (5 s) 3, a
 * usage error 64.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <rpc/rpc.h>
#include <rpc/pmap_prot.h>
#include <rpc/rpcb_prot.h>

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

static int is_tcp, is_getport;
static unsigned long prog_base;
static long count, port_base;
static char **expected; /* "127.0.0.1.P1.P2" of each program */

static void wrong(long index, const char *what) {
  fprintf(stderr, "lookup-client: program %lu: %s\n", prog_base + (unsigned long) (index % count), what);
  exit(2);
}

/* ---- libtirpc, one call at a time ---- */

static void run_tirpc(int port, long calls, long warmup, uint64_t *lat, uint64_t *elapsed) {
  struct sockaddr_in sin;
  struct netbuf addr;
  CLIENT *cl;
  int fd;
  long i;
  uint64_t start = 0, t0;
  char netid[4];

  strcpy(netid, is_tcp ? "tcp" : "udp");
  fd = socket(AF_INET, is_tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short) port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.maxlen = addr.len = sizeof sin;
  addr.buf = &sin;
  cl = is_tcp ? clnt_vc_create(fd, &addr, RPCBPROG, is_getport ? PMAPVERS : RPCBVERS, 0, 0)
              : clnt_dg_create(fd, &addr, RPCBPROG, is_getport ? PMAPVERS : RPCBVERS, 0, 0);
  if (cl == NULL) {
    fprintf(stderr, "%s\n", clnt_spcreateerror("lookup-client"));
    exit(2);
  }
  clnt_control(cl, CLSET_FD_CLOSE, NULL);
  for (i = -warmup; i < calls; i++) {
    long k = (i + warmup) % count;
    enum clnt_stat stat;
    t0 = now_ns();
    if (is_getport) {
      struct pmap parms = { prog_base + (unsigned long) k, 1, is_tcp ? IPPROTO_TCP : IPPROTO_UDP, 0 };
      u_short got = 0;
      stat = clnt_call(cl, PMAPPROC_GETPORT, (xdrproc_t) xdr_pmap, (char *) &parms, (xdrproc_t) xdr_u_short,
                       (char *) &got, call_timeout);
      if (stat != RPC_SUCCESS) wrong(k, clnt_sperror(cl, "GETPORT"));
      if (got != port_base + k) wrong(k, "GETPORT answered another port");
    } else {
      RPCB parms;
      char *got = NULL;
      parms.r_prog = prog_base + (unsigned long) k;
      parms.r_vers = 1;
      parms.r_netid = netid;
      parms.r_addr = "";
      parms.r_owner = "";
      stat = clnt_call(cl, RPCBPROC_GETADDR, (xdrproc_t) xdr_rpcb, (char *) &parms, (xdrproc_t) xdr_wrapstring,
                       (char *) &got, call_timeout);
      if (stat != RPC_SUCCESS) wrong(k, clnt_sperror(cl, "GETADDR"));
      if (got == NULL || strcmp(got, expected[k]) != 0) wrong(k, "GETADDR answered another address");
      xdr_free((xdrproc_t) xdr_wrapstring, (char *) &got);
    }
    if (i == 0) start = t0;
    if (i >= 0) lat[i] = now_ns() - t0;
  }
  *elapsed = now_ns() - start;
  clnt_destroy(cl);
}

/* ---- hand-encoded calls, IN_FLIGHT outstanding ---- */

/* Room for one call: the record mark, 40 bytes of header, then the arguments. */
#define CALL_MAX 80

static void put32(unsigned char *p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
}

static uint32_t get32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return ntohl(v);
}

/* Encodes the call for lookup `index` with xid `xid`; returns its length (with the record mark over TCP). */
static size_t encode_call(unsigned char *out, long index, uint32_t xid) {
  unsigned char *p = out + (is_tcp ? 4 : 0), *start = p;
  long k = index % count;
  put32(p, xid);
  put32(p + 4, 0);          /* CALL */
  put32(p + 8, 2);          /* RPC version 2 */
  put32(p + 12, RPCBPROG);
  put32(p + 16, is_getport ? PMAPVERS : RPCBVERS);
  put32(p + 20, is_getport ? PMAPPROC_GETPORT : RPCBPROC_GETADDR);
  memset(p + 24, 0, 16);    /* AUTH_NONE credential and verifier */
  p += 40;
  put32(p, (uint32_t) (prog_base + (unsigned long) k));
  put32(p + 4, 1);
  if (is_getport) {
    put32(p + 8, is_tcp ? IPPROTO_TCP : IPPROTO_UDP);
    put32(p + 12, 0);
    p += 16;
  } else {
    put32(p + 8, 3); /* r_netid */
    memcpy(p + 12, is_tcp ? "tcp\0" : "udp\0", 4);
    memset(p + 16, 0, 8); /* r_addr, r_owner: "" */
    p += 24;
  }
  if (is_tcp) put32(out, 0x80000000u | (uint32_t) (p - start));
  return (size_t) (p - out);
}

/* Checks one reply (without its record mark) of lookup `index`. */
static void check_reply(const unsigned char *m, size_t n, long index) {
  long k = index % count;
  size_t verf;
  if (n < 24 || get32(m + 4) != 1 || get32(m + 8) != 0) wrong(k, "not an accepted reply");
  verf = (get32(m + 16) + 3) & ~3u;
  if (n < 24 + verf + 4 || get32(m + 20 + verf) != 0) wrong(k, "the call was not a success");
  m += 24 + verf;
  n -= 24 + verf;
  if (is_getport) {
    if (n != 4 || (long) get32(m) != port_base + k) wrong(k, "GETPORT answered another port");
  } else {
    size_t len = n >= 4 ? get32(m) : 0, want = strlen(expected[k]);
    if (n < 4 || len != want || n < 4 + len || memcmp(m + 4, expected[k], len) != 0)
      wrong(k, "GETADDR answered another address");
  }
}

static void write_all(int fd, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      perror("lookup-client: write");
      exit(2);
    }
    p += w;
    n -= (size_t) w;
  }
}

static void run_raw(int port, long calls, long warmup, long in_flight, uint64_t *lat, uint64_t *elapsed) {
  long total = calls + warmup, sent = 0, done = 0;
  uint64_t *sent_at = malloc(sizeof *sent_at * (size_t) total);
  unsigned char *out = malloc(CALL_MAX * (size_t) in_flight);
  size_t cap = 1 << 16, have = 0;
  unsigned char *in = malloc(cap);
  uint64_t start = 0;
  struct sockaddr_in sin;
  int fd, one = 1;

  if (sent_at == NULL || out == NULL || in == NULL) {
    perror("lookup-client: malloc");
    exit(1);
  }
  fd = socket(AF_INET, is_tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short) port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *) &sin, sizeof sin) != 0) {
    perror("lookup-client: connect");
    exit(2);
  }
  if (is_tcp) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  /* The xid is the lookup's index: replies may come in any order. */
#define SEND_UP_TO(limit)                                                     \
  do {                                                                        \
    size_t len = 0;                                                           \
    while (sent < total && sent < (limit)) {                                  \
      if (sent == warmup) start = now_ns();                                   \
      sent_at[sent] = now_ns();                                               \
      if (is_tcp) {                                                           \
        len += encode_call(out + len, sent, (uint32_t) sent);                 \
      } else {                                                                \
        size_t n = encode_call(out, sent, (uint32_t) sent);                   \
        if (send(fd, out, n, 0) < 0) {                                        \
          perror("lookup-client: send");                                      \
          exit(2);                                                            \
        }                                                                     \
      }                                                                       \
      sent++;                                                                 \
    }                                                                         \
    if (is_tcp && len > 0) write_all(fd, out, len);                          \
  } while (0)

  SEND_UP_TO(in_flight);
  while (done < total) {
    struct pollfd pfd = { fd, POLLIN, 0 };
    ssize_t r;
    int replies = 0;
    if (poll(&pfd, 1, 5000) == 0) {
      fprintf(stderr, "lookup-client: no reply for 5 s (%ld of %ld answered)\n", done, total);
      exit(3);
    }
    r = recv(fd, in + have, cap - have, 0);
    if (r <= 0) {
      fprintf(stderr, "lookup-client: the binder closed the connection (%ld of %ld answered)\n", done, total);
      exit(2);
    }
    if (is_tcp) {
      size_t at = 0;
      have += (size_t) r;
      for (;;) {
        uint32_t mark, len;
        if (have - at < 4) break;
        mark = get32(in + at);
        len = mark & 0x7fffffffu;
        if (!(mark & 0x80000000u) || len > cap - 4) {
          fprintf(stderr, "lookup-client: a reply in several fragments or too long\n");
          exit(2);
        }
        if (have - at < 4 + len) break;
        {
          uint32_t xid = get32(in + at + 4);
          if (xid >= (uint32_t) total) wrong(0, "a reply with an unknown xid");
          if (xid >= (uint32_t) warmup) lat[xid - warmup] = now_ns() - sent_at[xid];
          check_reply(in + at + 4, len, xid);
        }
        at += 4 + len;
        replies++;
      }
      memmove(in, in + at, have - at);
      have -= at;
    } else {
      uint32_t xid = (size_t) r >= 4 ? get32(in) : 0;
      if ((size_t) r < 4 || xid >= (uint32_t) total) wrong(0, "a reply with an unknown xid");
      if (xid >= (uint32_t) warmup) lat[xid - warmup] = now_ns() - sent_at[xid];
      check_reply(in, (size_t) r, xid);
      replies = 1;
    }
    done += replies;
    SEND_UP_TO(done + in_flight);
  }
  *elapsed = now_ns() - start;
  close(fd);
  free(sent_at);
  free(out);
  free(in);
}

int main(int argc, char **argv) {
  long calls, warmup, in_flight, i;
  int port, raw;
  uint64_t *lat, elapsed = 0;

  if (argc != 11 || (strcmp(argv[1], "tirpc") != 0 && strcmp(argv[1], "raw") != 0) ||
      (strcmp(argv[3], "tcp") != 0 && strcmp(argv[3], "udp") != 0) ||
      (strcmp(argv[4], "getaddr") != 0 && strcmp(argv[4], "getport") != 0)) {
    fprintf(stderr,
            "usage: lookup-client tirpc|raw PORT tcp|udp getaddr|getport PROG_BASE COUNT PORT_BASE CALLS WARMUP "
            "IN_FLIGHT\n");
    return 64;
  }
  raw = strcmp(argv[1], "raw") == 0;
  port = atoi(argv[2]);
  is_tcp = strcmp(argv[3], "tcp") == 0;
  is_getport = strcmp(argv[4], "getport") == 0;
  prog_base = strtoul(argv[5], NULL, 0);
  count = atol(argv[6]);
  port_base = atol(argv[7]);
  calls = atol(argv[8]);
  warmup = atol(argv[9]);
  in_flight = atol(argv[10]);
  if (count < 1 || calls < 1 || warmup < 0 || in_flight < 1 || (!raw && in_flight != 1) ||
      port_base < 1 || port_base + count > 65536) {
    fprintf(stderr, "lookup-client: bad numbers (tirpc mode takes IN_FLIGHT 1 only)\n");
    return 64;
  }
  expected = malloc(sizeof *expected * (size_t) count);
  lat = malloc(sizeof *lat * (size_t) calls);
  if (expected == NULL || lat == NULL) {
    perror("lookup-client: malloc");
    return 1;
  }
  for (i = 0; i < count; i++) {
    long p = port_base + i;
    expected[i] = malloc(32);
    snprintf(expected[i], 32, "127.0.0.1.%ld.%ld", p >> 8, p & 255);
  }
  if (raw)
    run_raw(port, calls, warmup, in_flight, lat, &elapsed);
  else
    run_tirpc(port, calls, warmup, lat, &elapsed);
  qsort(lat, (size_t) calls, sizeof *lat, compare_u64);
  printf("%llu %llu %llu\n", (unsigned long long) elapsed, (unsigned long long) percentile(lat, calls, 0.5),
         (unsigned long long) percentile(lat, calls, 0.99));
  return 0;
}

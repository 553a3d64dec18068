/*
 * kv_server.c: the KV_PROG server in C. The procedures of kv.x, called by
 * the dispatcher kv_prog_1 that `rpcgen -m kv.x` writes, and a main that
 * serves them over TCP and UDP on 127.0.0.1.
 *
 * Build (build.sh does this):
 *   rpcgen -h -o kv.h kv.x; rpcgen -c -o kv_xdr.c kv.x; rpcgen -m -o kv_svc.c kv.x
 *   gcc -I/usr/include/tirpc -o kv_server kv_server.c kv_svc.c kv_xdr.c -ltirpc
 *
 * Usage: kv_server [PORT]
 * Listens on 127.0.0.1:PORT over TCP and UDP (default 0: the kernel picks a
 * port), prints "tcp <port>" and "udp <port>", then serves until killed.
 *
 * rpcgen can also write a main (rpcgen -s tcp, or rpcgen kv.x without -m);
 * that main registers the program with rpcbind on port 111 and listens on
 * every address. This one registers with protocol 0, so svc_register only
 * records the dispatcher and needs no rpcbind: clients are given the port.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <rpc/rpc.h>
#include "kv.h"

void kv_prog_1(struct svc_req *, SVCXPRT *);

/* The store: keys and values in the order the keys were first put. */
static char *keys[KV_MAX_KEYS];
static char *values[KV_MAX_KEYS];
static u_int count = 0;

static int find(const char *key) {
  for (u_int i = 0; i < count; i++)
    if (strcmp(keys[i], key) == 0) return (int) i;
  return -1;
}

/*
 * rpcgen's convention without -M: a procedure returns a pointer to its
 * result, which must outlive the call (a static), and must copy what it
 * keeps of its arguments (the dispatcher frees them after the reply).
 */
kv_status *kv_put_1_svc(kv_pair *argp, struct svc_req *rqstp) {
  static kv_status result;
  int i = find(argp->key);
  if (i < 0) {
    if (count == KV_MAX_KEYS) {
      result = KV_FULL;
      return &result;
    }
    i = (int) count++;
    keys[i] = strdup(argp->key);
    values[i] = NULL;
  }
  free(values[i]);
  values[i] = strdup(argp->value);
  result = KV_OK;
  return &result;
}

kv_get_result *kv_get_1_svc(kv_key *argp, struct svc_req *rqstp) {
  static kv_get_result result;
  int i = find(*argp);
  if (i < 0) {
    result.status = KV_NOT_FOUND;
  } else {
    result.status = KV_OK;
    result.kv_get_result_u.value = values[i];
  }
  return &result;
}

kv_keys *kv_list_1_svc(void *argp, struct svc_req *rqstp) {
  static kv_keys result;
  result.kv_keys_len = count;
  result.kv_keys_val = keys;
  return &result;
}

/* A socket bound to 127.0.0.1:port; *bound gets the port it was given. */
static int bound_socket(int type, int port, int *bound) {
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int fd = socket(AF_INET, type, 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short) port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof sin) != 0 ||
      getsockname(fd, (struct sockaddr *) &sin, &len) != 0) {
    perror("kv_server");
    exit(1);
  }
  *bound = ntohs(sin.sin_port);
  return fd;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int tcp_port, udp_port;
  int tcp_fd = bound_socket(SOCK_STREAM, port, &tcp_port);
  int udp_fd = bound_socket(SOCK_DGRAM, port, &udp_port);
  SVCXPRT *tcp, *udp;

  if (listen(tcp_fd, SOMAXCONN) != 0) {
    perror("kv_server: listen");
    return 1;
  }
  /* svc_vc_create (TCP) and svc_dg_create (UDP) serve a socket we bound ourselves. */
  tcp = svc_vc_create(tcp_fd, 0, 0);
  udp = svc_dg_create(udp_fd, 0, 0);
  if (tcp == NULL || udp == NULL) {
    fprintf(stderr, "kv_server: cannot create the transports\n");
    return 1;
  }
  /* Protocol 0: do not register with rpcbind (rpcgen's main passes IPPROTO_TCP / IPPROTO_UDP). */
  if (!svc_register(tcp, KV_PROG, KV_V1, kv_prog_1, 0) || !svc_register(udp, KV_PROG, KV_V1, kv_prog_1, 0)) {
    fprintf(stderr, "kv_server: svc_register failed\n");
    return 1;
  }
  printf("tcp %d\nudp %d\n", tcp_port, udp_port);
  fflush(stdout);
  svc_run();
  fprintf(stderr, "kv_server: svc_run returned\n");
  return 1;
}

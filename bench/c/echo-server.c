/*
 * The C server of the RPC benchmark: the procedures of bench/fixtures/echo.x
 * for the dispatcher that `rpcgen -m` writes (echo_prog_1), served by
 * libtirpc over TCP on 127.0.0.1. Both procedures answer their argument.
 *
 * Built at benchmark time by bench/lib/c-peers.ts into a temporary directory
 * (never committed as a binary):
 *   rpcgen -h/-c/-m echo.x
 *   gcc -O2 -I/usr/include/tirpc echo-server.c echo_svc.c echo_xdr.c -ltirpc -lpthread
 *
 * Usage: echo-server [TCP_PORT]  (default 0: the kernel picks)
 * Prints "tcp <port>\n" once it listens, then serves until stdin closes
 * (the benchmark went away) or a signal ends it. No rpcbind: the version is
 * registered with protocol 0, so svc_register never calls pmap_set.
 * Single-threaded, as svc_run is: calls are answered one after another.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <rpc/rpc.h>
#include "echo.h"

void echo_prog_1(struct svc_req *, SVCXPRT *);

/* The dispatcher encodes the reply before it frees the arguments, so answering them is safe. */
small *echo_small_1_svc(small *argp, struct svc_req *rqstp) {
  (void) rqstp;
  return argp;
}

bulk *echo_bulk_1_svc(bulk *argp, struct svc_req *rqstp) {
  (void) rqstp;
  return argp;
}

/* Ends the process when stdin reaches its end, so a server never outlives the benchmark. */
static void *watch_stdin(void *unused) {
  char buf[256];
  (void) unused;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EINTR)) _exit(0);
  }
  return NULL;
}

int main(int argc, char **argv) {
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int one = 1, port = 0, fd;
  SVCXPRT *tcp;
  pthread_t watcher;

  if (argc > 2) {
    fprintf(stderr, "usage: echo-server [TCP_PORT]\n");
    return 64;
  }
  if (argc == 2) port = atoi(argv[1]);
  /* A client that goes away before its reply is written must not kill the server. */
  signal(SIGPIPE, SIG_IGN);

  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    perror("echo-server: socket");
    return 1;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short) port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *) &sin, sizeof sin) != 0 || listen(fd, SOMAXCONN) != 0 ||
      getsockname(fd, (struct sockaddr *) &sin, &len) != 0) {
    perror("echo-server: bind/listen");
    return 1;
  }
  /* svc_vc_create takes a bound socket and needs no netconfig entry or rpcbind; 0, 0: default buffers. */
  tcp = svc_vc_create(fd, 0, 0);
  if (tcp == NULL) {
    fprintf(stderr, "echo-server: svc_vc_create failed\n");
    return 1;
  }
  if (!svc_register(tcp, ECHO_PROG, ECHO_V1, echo_prog_1, 0)) {
    fprintf(stderr, "echo-server: svc_register failed\n");
    return 1;
  }
  if (pthread_create(&watcher, NULL, watch_stdin, NULL) != 0) {
    fprintf(stderr, "echo-server: pthread_create failed\n");
    return 1;
  }
  printf("tcp %d\n", ntohs(sin.sin_port));
  fflush(stdout);
  svc_run();
  fprintf(stderr, "echo-server: svc_run returned\n");
  return 1;
}

/*
 * kv_client.c: a KV_PROG client in C, through the stubs that
 * `rpcgen -l kv.x` writes (kv_put_1, kv_get_1, kv_list_1).
 *
 * Build (build.sh does this):
 *   rpcgen -h -o kv.h kv.x; rpcgen -c -o kv_xdr.c kv.x; rpcgen -l -o kv_clnt.c kv.x
 *   gcc -I/usr/include/tirpc -o kv_client kv_client.c kv_clnt.c kv_xdr.c -ltirpc
 *
 * Usage: kv_client HOST PORT tcp|udp put KEY VALUE
 *        kv_client HOST PORT tcp|udp get KEY
 *        kv_client HOST PORT tcp|udp list
 * HOST is an IPv4 address. Prints the status (and the value, or the keys one
 * a line); on an RPC failure prints libtirpc's message and exits with 2.
 *
 * With rpcbind running and the server registered there, clnt_create(HOST,
 * KV_PROG, KV_V1, "tcp") would find the port itself; clnttcp_create and
 * clntudp_create are given the port, so no rpcbind is asked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rpc/rpc.h>
#include "kv.h"

static const char *status_name(kv_status s) {
  switch (s) {
  case KV_OK: return "KV_OK";
  case KV_NOT_FOUND: return "KV_NOT_FOUND";
  case KV_FULL: return "KV_FULL";
  }
  return "unknown status";
}

static void usage(void) {
  fprintf(stderr, "usage: kv_client HOST PORT tcp|udp put KEY VALUE | get KEY | list\n");
  exit(64);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  struct timeval wait = {5, 0};   /* UDP: retransmit every 5 s (the call's timeout is 25 s) */
  int sock = RPC_ANYSOCK;
  CLIENT *cl;

  if (argc < 5) usage();
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short) atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) usage();
  if (strcmp(argv[3], "tcp") == 0)
    cl = clnttcp_create(&addr, KV_PROG, KV_V1, &sock, 0, 0);
  else if (strcmp(argv[3], "udp") == 0)
    cl = clntudp_create(&addr, KV_PROG, KV_V1, wait, &sock);
  else
    usage();
  if (cl == NULL) {
    clnt_pcreateerror("kv_client");
    return 2;
  }

  if (strcmp(argv[4], "put") == 0 && argc == 7) {
    kv_pair pair = {argv[5], argv[6]};
    kv_status *status = kv_put_1(&pair, cl);
    if (status == NULL) goto failed;
    printf("%s\n", status_name(*status));
  } else if (strcmp(argv[4], "get") == 0 && argc == 6) {
    kv_get_result *result = kv_get_1(&argv[5], cl);
    if (result == NULL) goto failed;
    if (result->status == KV_OK)
      printf("%s %s\n", status_name(result->status), result->kv_get_result_u.value);
    else
      printf("%s\n", status_name(result->status));
  } else if (strcmp(argv[4], "list") == 0 && argc == 5) {
    kv_keys *list = kv_list_1(NULL, cl);
    if (list == NULL) goto failed;
    for (u_int i = 0; i < list->kv_keys_len; i++) printf("%s\n", list->kv_keys_val[i]);
  } else {
    usage();
  }
  clnt_destroy(cl);
  return 0;

failed:
  clnt_perror(cl, "kv_client");
  return 2;
}

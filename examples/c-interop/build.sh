#!/bin/sh
# Builds the C server and client of kv.x into DIR, from the sources beside
# this script: rpcgen writes the C for kv.x, gcc compiles it with libtirpc.
# Needs rpcgen (Debian: rpcsvc-proto), gcc and libtirpc-dev.
#
# Usage: sh examples/c-interop/build.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: build.sh DIR" >&2; exit 64; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
cp "$here/kv.x" "$here/kv_server.c" "$here/kv_client.c" "$1"
cd "$1"
rpcgen -h -o kv.h kv.x        # types, constants and prototypes
rpcgen -c -o kv_xdr.c kv.x    # XDR routines: xdr_kv_pair, ...
rpcgen -m -o kv_svc.c kv.x    # the server's dispatcher kv_prog_1, without a main
rpcgen -l -o kv_clnt.c kv.x   # the client's stubs kv_put_1, kv_get_1, kv_list_1
gcc -I/usr/include/tirpc -o kv_server kv_server.c kv_svc.c kv_xdr.c -ltirpc
gcc -I/usr/include/tirpc -o kv_client kv_client.c kv_clnt.c kv_xdr.c -ltirpc
echo "built $1/kv_server and $1/kv_client"

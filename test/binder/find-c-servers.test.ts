/**
 * Our clients find libtirpc servers through a binder on port 111, first
 * Debian's rpcbind, then ours: a C server registered by svc_create
 * (rpcb_set) and one by rpcgen's own main (pmap_set) are called by typed
 * clients given only a host (rpcbindResolver), over TCP and UDP; the
 * version is negotiated; a server that unregistered is NOT_REGISTERED.
 *
 * Holds the port-111 lock; never skipped (rpcbind is installed by .ci/run).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  createClient,
  createNegotiatedClient,
  isRpcError,
  type ProgramVersionDescriptor,
  xdrInt,
} from "once-rpc";
import { createBinder, rpcbindResolver } from "once-rpc/binder";
import {
  buildCBinderPeers,
  type Child,
  PROBE_PROG,
  startChild,
  startDebianRpcbind,
} from "../support/c-binder-peers.js";
import { acquirePort111, type ReleasePort111, RPCBIND_SOCKET } from "../support/port-111.js";

function probe<V extends 1 | 2>(version: V) {
  return {
    programName: "PROBE_PROG",
    program: PROBE_PROG,
    versionName: `PROBE_V${version}`,
    version,
    procedures: { add: { name: "PROBE_ADD", number: 1, args: xdrInt, result: xdrInt } },
  } as const satisfies ProgramVersionDescriptor;
}
const ProbeV1 = probe(1);
const ProbeV2 = probe(2);

let release: ReleasePort111 | undefined;
before(async () => {
  release = await acquirePort111();
  await buildCBinderPeers();
});
after(() => release?.());

/** What a client given only a host sees of the C servers, asked through the binder on port 111. */
async function findCServers(): Promise<void> {
  const peers = await buildCBinderPeers();
  const resolver = rpcbindResolver(); // the host's binder: 127.0.0.1, port 111
  let server: Child | undefined = await startChild(peers.svcCreateServer, [], /registered \d+\n/);
  try {
    for (const protocol of ["tcp", "udp"] as const) {
      const client = createClient(ProbeV2, `${protocol}://127.0.0.1`, { resolver });
      assert.equal(await client.add(41), 42, `the C server (bias 1) over ${protocol}`);
      await client.$close();
    }
    // Without a resolver, an address without a port asks the binder on its host: port 111 here.
    const plain = createClient(ProbeV2, "udp://127.0.0.1");
    assert.equal(await plain.add(1), 2, "found through the default resolver");
    await plain.$close();
    const negotiated = await createNegotiatedClient([ProbeV1, ProbeV2], "tcp://127.0.0.1", { resolver });
    assert.equal(negotiated.version, 2);
    await negotiated.client.$close();

    await server.stop("SIGTERM"); // svc_unreg: rpcb_unset of every registration
    server = undefined;
    const gone = createClient(ProbeV2, "tcp://127.0.0.1", { resolver });
    await assert.rejects(gone.add(1), (e: unknown) => isRpcError(e, "NOT_REGISTERED"));
    await gone.$close();

    // rpcgen's own main registers with pmap_set (the portmapper's SET).
    server = await startChild(peers.rpcgenServer, []);
    const old = createClient(ProbeV1, "udp://127.0.0.1", { resolver, timeoutMs: 5_000 });
    let answer: number | undefined;
    for (let i = 0; i < 100 && answer === undefined; i++) {
      try {
        answer = await old.add(1);
      } catch (error) {
        if (!isRpcError(error, "NOT_REGISTERED")) throw error;
        await new Promise((r) => setTimeout(r, 50)); // not registered yet
      }
    }
    assert.equal(answer, 2);
    await old.$close();
  } finally {
    await server?.stop("SIGKILL");
    await resolver.close?.();
  }
}

describe("typed clients find libtirpc servers through the binder on port 111", () => {
  test("Debian's rpcbind", async () => {
    const rpcbind = await startDebianRpcbind();
    try {
      await findCServers();
    } finally {
      await rpcbind.stop();
    }
  });

  test("our binder", async () => {
    const binder = createBinder();
    try {
      for (const address of ["tcp://127.0.0.1:111", "udp://127.0.0.1:111", `unix://${RPCBIND_SOCKET}`]) {
        await binder.listen(address);
      }
      await findCServers();
    } finally {
      await binder.close();
    }
  });
});

/**
 * The binder under load (issue 4, item 6): 1,000 registrations made through
 * real SET calls (rpcbind versions 3 and 4 and the portmapper, over TCP and
 * UDP), then 10,000 lookups — GETADDR (versions 3 and 4), GETVERSADDR and
 * GETPORT, mixed, 32 in flight over six clients — each checked against
 * what a model of rpcbind's rules expects, unregistered programs and
 * versions included; then every registration UNSET and DUMP left with the
 * binder's own entries only. Correctness only: nothing here is timed.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  type Client,
  createClient,
  type InetAddress,
  type ProgramVersionDescriptor,
  silentLogger,
} from "once-rpc";
import {
  type Binder,
  createBinder,
  type InterfaceList,
  PmapProgV2,
  RpcbprogV3,
  RpcbprogV4,
} from "once-rpc/binder";

/** The programs: PROGRAMS of them from BASE, each version 1 and 2 on tcp and udp: 1,000 registrations. */
const BASE = 0x2000_5000;
const PROGRAMS = 250;
const VERSIONS = [1, 2] as const;
const NETIDS = ["tcp", "udp"] as const;
const LOOKUPS = 10_000;
const IN_FLIGHT = 32;

/** Only loopback, so that merged wildcard addresses do not depend on the machine. */
const INTERFACES: InterfaceList = {
  lo: [
    {
      address: "127.0.0.1",
      netmask: "255.0.0.0",
      family: "IPv4",
      internal: true,
      mac: "",
      cidr: "127.0.0.1/8",
    },
  ],
};

type Netid = (typeof NETIDS)[number];

/** One registration of the model, in the order it was SET. */
interface Registered {
  readonly program: number;
  readonly version: number;
  readonly netid: Netid;
  readonly port: number;
  /** Set through the portmapper, so registered as 0.0.0.0.P1.P2 and merged on lookup. */
  readonly wildcard: boolean;
}

/** How program `j` is registered: v3 over TCP, v4 over UDP, v3 over UDP, or the portmapper. */
const setter = (j: number) => (["v3 tcp", "v4 udp", "v3 udp", "v2"] as const)[j % 4];

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const uaddr = (host: string, port: number) => `${host}.${port >> 8}.${port & 255}`;

let binder: Binder;
let tcp: InetAddress;
let udp: InetAddress;
const clients: Array<{ $destroy(): void }> = [];
function client<D extends ProgramVersionDescriptor>(descriptor: D, target: string): Client<D> {
  // UDP calls in flight may be dropped under load: the client retransmits within its deadline.
  const c = createClient(descriptor, target, { timeoutMs: 10_000 });
  clients.push(c);
  return c;
}

before(async () => {
  binder = createBinder({ interfaces: () => INTERFACES, server: { logger: silentLogger } });
  tcp = (await binder.listen("tcp://127.0.0.1:0")) as InetAddress;
  udp = (await binder.listen("udp://127.0.0.1:0")) as InetAddress;
});

after(async () => {
  for (const c of clients) c.$destroy();
  await binder?.close();
});

test("1,000 registrations, 10,000 mixed lookups in flight, every answer right; UNSET leaves DUMP empty", async () => {
  const at = (a: InetAddress) => `127.0.0.1:${a.port}`;
  const v3 = { tcp: client(RpcbprogV3, `tcp://${at(tcp)}`), udp: client(RpcbprogV3, `udp://${at(udp)}`) };
  const v4 = { tcp: client(RpcbprogV4, `tcp://${at(tcp)}`), udp: client(RpcbprogV4, `udp://${at(udp)}`) };
  const v2 = { tcp: client(PmapProgV2, `tcp://${at(tcp)}`), udp: client(PmapProgV2, `udp://${at(udp)}`) };

  // 1. Registrations, through SET calls, several at a time.
  const model: Registered[] = [];
  let port = 10_000;
  for (let j = 0; j < PROGRAMS; j++)
    for (const version of VERSIONS)
      for (const netid of NETIDS)
        model.push({ program: BASE + j, version, netid, port: port++, wildcard: setter(j) === "v2" });
  await inLanes(model.length, 8, async (i) => {
    const r = model[i];
    const args = { r_prog: r.program, r_vers: r.version, r_netid: r.netid, r_addr: "", r_owner: "" };
    const how = setter(r.program - BASE);
    let ok: boolean;
    if (how === "v3 tcp") ok = await v3.tcp.set({ ...args, r_addr: uaddr("127.0.0.1", r.port) });
    else if (how === "v3 udp") ok = await v3.udp.set({ ...args, r_addr: uaddr("127.0.0.1", r.port) });
    else if (how === "v4 udp") ok = await v4.udp.set({ ...args, r_addr: uaddr("127.0.0.1", r.port) });
    else
      ok = await v2.tcp.set({
        prog: r.program,
        vers: r.version,
        prot: r.netid === "tcp" ? 6 : 17,
        port: r.port,
      });
    assert.equal(ok, true, `SET ${r.program} v${r.version} ${r.netid}`);
  });
  // SETs in flight land in any order, and GETADDR's fallback (the program's last registration) depends
  // on it: the model takes the order from DUMP, which lists registrations in the order they were made.
  const dumped = await dumpOthers(v4.tcp);
  assert.equal(dumped.length, 1000, "DUMP lists the 1,000 registrations");
  const order = new Map(dumped.map((e, i) => [`${e.r_prog}/${e.r_vers}/${e.r_netid}`, i]));
  const inDumpOrder = [...model].sort((a, b) => (order.get(key(a)) ?? -1) - (order.get(key(b)) ?? -1));
  for (const r of model) {
    const e = dumped[order.get(key(r)) ?? -1];
    assert.ok(e !== undefined, `DUMP lists ${key(r)}`);
    assert.equal(e.r_addr, uaddr(r.wildcard ? "0.0.0.0" : "127.0.0.1", r.port), key(r));
  }
  const pmapList = await mappingsOthers(v2.udp);
  assert.equal(pmapList.length, 1000, "the portmapper's DUMP lists them too");

  // What rpcbind's find_service answers: the version asked on that netid, else the program's last registration there.
  const find = (program: number, version: number, netid: Netid): Registered | undefined => {
    let hit: Registered | undefined;
    for (const r of inDumpOrder) {
      if (r.program !== program || r.netid !== netid) continue;
      hit = r;
      if (r.version === version) break;
    }
    return hit;
  };
  const address = (r: Registered | undefined) => (r === undefined ? "" : uaddr("127.0.0.1", r.port));

  // 2. Lookups: a mix of procedures, transports, programs (a few unregistered) and versions (a few unregistered).
  const next = random(0x0b1d);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
  type Lookup = { what: string; ask: () => Promise<unknown>; want: unknown };
  const lookups: Lookup[] = [];
  for (let n = 0; n < LOOKUPS; n++) {
    const program = BASE + Math.floor(next() * (PROGRAMS + 10));
    const version = pick([1, 2, 3]);
    const over = pick(NETIDS);
    // r_netid is not what rpcbind looks in: the transport's netid is.
    const args = {
      r_prog: program,
      r_vers: version,
      r_netid: pick(["tcp", "udp", ""]),
      r_addr: "",
      r_owner: "",
    };
    const kind = pick(["getaddr v3", "getaddr v4", "getversaddr", "getport"] as const);
    const what = `${kind} ${program} v${version} over ${over}`;
    if (kind === "getaddr v3")
      lookups.push({ what, ask: () => v3[over].getaddr(args), want: address(find(program, version, over)) });
    else if (kind === "getaddr v4")
      lookups.push({ what, ask: () => v4[over].getaddr(args), want: address(find(program, version, over)) });
    else if (kind === "getversaddr") {
      const found = find(program, version, over);
      lookups.push({
        what,
        ask: () => v4[over].getversaddr(args),
        want: found?.version === version ? address(found) : "",
      });
    } else {
      const prot = pick(NETIDS);
      lookups.push({
        what: `${what} prot ${prot}`,
        ask: () => v2[over].getport({ prog: program, vers: version, prot: prot === "tcp" ? 6 : 17, port: 0 }),
        want: find(program, version, prot)?.port ?? 0,
      });
    }
  }
  const wrong: string[] = [];
  await inLanes(lookups.length, IN_FLIGHT, async (i) => {
    const got = await lookups[i].ask();
    if (got !== lookups[i].want)
      wrong.push(`${lookups[i].what}: ${String(got)}, expected ${String(lookups[i].want)}`);
  });
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} of ${LOOKUPS} lookups answered wrong`);
  const kinds = new Set(lookups.map((l) => l.what.split(" ").slice(0, 2).join(" ")));
  assert.ok(kinds.size >= 4, "every kind of lookup was made");
  assert.ok(
    lookups.filter((l) => l.want === "" || l.want === 0).length > 100,
    "some lookups were of unregistered programs or versions",
  );

  // 3. UNSET all: per netid, every netid at once (""), or through the portmapper (tcp and udp at once).
  await inLanes(PROGRAMS, 8, async (j) => {
    for (const version of VERSIONS) {
      const args = { r_prog: BASE + j, r_vers: version, r_netid: "", r_addr: "", r_owner: "" };
      let ok: boolean;
      if (setter(j) === "v2") ok = await v2.udp.unset({ prog: BASE + j, vers: version, prot: 0, port: 0 });
      else if (j % 2 === 0) ok = await v3.tcp.unset(args);
      else
        ok =
          (await v4.udp.unset({ ...args, r_netid: "tcp" })) &&
          (await v4.tcp.unset({ ...args, r_netid: "udp" }));
      assert.equal(ok, true, `UNSET ${BASE + j} v${version}`);
    }
  });
  assert.deepEqual(await dumpOthers(v3.udp), [], "rpcbind v3 DUMP: only the binder's own entries");
  assert.deepEqual(await dumpOthers(v4.tcp), [], "rpcbind v4 DUMP: only the binder's own entries");
  assert.deepEqual(await mappingsOthers(v2.tcp), [], "portmapper DUMP: only the binder's own entries");
  assert.equal(
    await v3.tcp.getaddr({ r_prog: BASE, r_vers: 1, r_netid: "tcp", r_addr: "", r_owner: "" }),
    "",
  );
});

function key(r: { program: number; version: number; netid: string }): string {
  return `${r.program}/${r.version}/${r.netid}`;
}

/** Runs `work(0 … count-1)` with `lanes` running at once. */
async function inLanes(count: number, lanes: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, lane));
}

/** rpcbind DUMP without the binder's own entries (program 100000), as [prog/vers/netid → addr]. */
async function dumpOthers(c: Client<typeof RpcbprogV3> | Client<typeof RpcbprogV4>) {
  const out: Array<{ r_prog: number; r_vers: number; r_netid: string; r_addr: string }> = [];
  for (let e = await c.dump(); e !== null; e = e.rpcb_next) {
    const m = e.rpcb_map;
    if (m.r_prog !== 100000)
      out.push({ r_prog: m.r_prog, r_vers: m.r_vers, r_netid: m.r_netid, r_addr: m.r_addr });
  }
  return out;
}

/** The portmapper's DUMP without the binder's own mappings. */
async function mappingsOthers(c: Client<typeof PmapProgV2>) {
  const out: Array<{ prog: number; vers: number; prot: number; port: number }> = [];
  for (let e = await c.dump(); e !== null; e = e.next) if (e.map.prog !== 100000) out.push(e.map);
  return out;
}

/**
 * The registry's index (issue 4): lookups read the registrations of the
 * program asked for instead of scanning them all. Here 3,000 random SETs,
 * UNSETs, applies, loads and setOwns (few programs, versions, netids in
 * mixed case, addresses with and without ports, several owners) are made
 * both on a Registry and on a model that is the registry as it was before
 * the index — one array in DUMP order scanned on every lookup, as rpcbind
 * 1.2.6's find_service, find_versions and the portmapper's view do — and
 * after each one every lookup of every program, version and netid must
 * answer the same, and DUMP list the same.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Registration, Registry, registrationKey } from "once-rpc/binder";

const PROGRAMS = [0x2000_0a00, 0x2000_0a01, 0x2000_0a02, 100000];
const VERSIONS = [1, 2, 3, 4];
const NETIDS = ["tcp", "TCP", "udp", "Udp", "tcp6", "local", ""];
const ADDRESSES = ["127.0.0.1.4.1", "0.0.0.0.4.2", "127.0.0.1.4.3", "::1.4.4", "/run/x.sock", "no port"];
const OWNERS = ["superuser", "1000", "unknown"];
const OPERATIONS = 3000;

/** The registry before the index: rpcbind's rules over one array, scanned. */
class Model {
  own: Registration[] = [];
  entries: Registration[] = [];
  constructor(readonly maxEntries: number) {}
  all(): Registration[] {
    return [...this.own, ...this.entries];
  }
  set(e: Registration): boolean {
    const found = this.find(e.program, e.version, e.netid);
    if (found !== undefined && found.version === e.version) return found.address === e.address;
    if (this.entries.length >= this.maxEntries) return false;
    this.entries.push({ ...e });
    return true;
  }
  /** Whether it was allowed, and what it removed (told to subscribers even when it stopped at a refusal). */
  unset(
    program: number,
    version: number,
    netid: string,
    owner: string,
  ): { ok: boolean; removed: Registration[] } {
    const removed: Registration[] = [];
    const from = (list: Registration[], emits: boolean): boolean => {
      for (let i = 0; i < list.length; ) {
        const r = list[i];
        if (r.program !== program || r.version !== version || (netid !== "" && !same(netid, r.netid))) {
          i++;
          continue;
        }
        if (owner !== "superuser" && r.owner !== owner) return false;
        list.splice(i, 1);
        if (emits) removed.push(r);
      }
      return true;
    };
    const ok = from(this.own, false) && from(this.entries, true);
    return { ok, removed };
  }
  apply(type: "set" | "unset", r: Registration): boolean {
    const key = registrationKey(r);
    const at = this.entries.findIndex((e) => registrationKey(e) === key);
    if (type === "unset") {
      if (at >= 0) this.entries.splice(at, 1);
      return true;
    }
    if (at >= 0) {
      this.entries[at] = { ...r };
      return true;
    }
    if (this.entries.length >= this.maxEntries) return false;
    this.entries.push({ ...r });
    return true;
  }
  load(list: readonly Registration[]): number {
    const slots = new Map<string, Registration>();
    for (const e of list) {
      const key = registrationKey(e);
      if (slots.has(key) || slots.size < this.maxEntries) slots.set(key, { ...e });
    }
    this.entries = [...slots.values()];
    return this.entries.length;
  }
  find(program: number, version: number, netid: string): Registration | undefined {
    let hit: Registration | undefined;
    for (const r of this.all()) {
      if (r.program !== program || !same(r.netid, netid)) continue;
      hit = r;
      if (r.version === version) break;
    }
    return hit;
  }
  versions(program: number, netid: string): { low: number; high: number } | undefined {
    const vs = this.all()
      .filter((r) => r.program === program && same(r.netid, netid))
      .map((r) => r.version);
    return vs.length === 0 ? undefined : { low: Math.min(...vs), high: Math.max(...vs) };
  }
  mappings() {
    const out: Array<{ prog: number; vers: number; prot: number; port: number }> = [];
    for (const r of this.all()) {
      const prot = r.netid === "tcp" ? 6 : r.netid === "udp" ? 17 : undefined;
      const m = /^(.+)\.(\d{1,3})\.(\d{1,3})$/.exec(r.address);
      if (prot === undefined || m === null || Number(m[2]) > 255 || Number(m[3]) > 255) continue;
      out.push({ prog: r.program, vers: r.version, prot, port: Number(m[2]) * 256 + Number(m[3]) });
    }
    return out;
  }
  getPort(program: number, version: number, protocol: number): number {
    let hit: { vers: number; port: number } | undefined;
    for (const m of this.mappings()) {
      if (m.prog !== program || m.prot !== protocol) continue;
      hit = m;
      if (m.vers === version) break;
    }
    return hit?.port ?? 0;
  }
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** mulberry32, so that a failure can be replayed from the seed. */
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

const plain = (list: readonly Registration[]) => list.map((r) => ({ ...r }));

for (const seed of [1, 2, 3]) {
  test(`${OPERATIONS} random changes (seed ${seed}): every lookup answers as the scanned list does`, () => {
    const next = random(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
    const maxEntries = 24;
    const registry = new Registry({ maxEntries });
    const model = new Model(maxEntries);
    const told: string[] = [];
    registry.subscribe((c) => told.push(`${c.type} ${registrationKey(c.registration)}`));
    const registration = (): Registration => ({
      program: pick(PROGRAMS),
      version: pick(VERSIONS),
      netid: pick(NETIDS),
      address: pick(ADDRESSES),
      owner: pick(OWNERS),
    });
    const kinds = new Map<string, number>();
    for (let n = 0; n < OPERATIONS; n++) {
      const kind = pick([
        "set",
        "set",
        "set",
        "unset",
        "apply set",
        "apply unset",
        "load",
        "setOwn",
      ] as const);
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      const r = registration();
      const where = `operation ${n} (${kind} ${registrationKey(r)})`;
      told.length = 0;
      if (kind === "set") {
        const before = model.entries.length;
        assert.equal(registry.set(r), model.set(r), where);
        const added = model.entries.length > before ? [`set ${registrationKey(r)}`] : [];
        assert.deepEqual(told, added, `${where}: the change feed`);
      } else if (kind === "unset") {
        const netid = pick(NETIDS);
        const { ok, removed } = model.unset(r.program, r.version, netid, r.owner);
        assert.equal(registry.unset(r.program, r.version, netid, r.owner), ok, where);
        assert.deepEqual(
          told,
          removed.map((x) => `unset ${registrationKey(x)}`),
          `${where}: the change feed`,
        );
      } else if (kind === "apply set" || kind === "apply unset") {
        const type = kind === "apply set" ? "set" : "unset";
        assert.equal(registry.apply({ type, registration: r }), model.apply(type, r), where);
        assert.deepEqual(told, [], `${where}: apply tells no one`);
      } else if (kind === "load") {
        // The snapshot again, shuffled a little and with a newcomer: replaced slots keep their place.
        const list = registry.snapshot();
        if (list.length > 1 && next() < 0.5) list.push(list[0]);
        list.push(r);
        assert.equal(registry.load(list), model.load(list), where);
      } else {
        const own = Array.from({ length: Math.floor(next() * 4) }, () => ({
          ...registration(),
          owner: "superuser",
        }));
        registry.setOwn(own);
        model.own = own.map((o) => ({ ...o }));
      }
      assert.deepEqual(plain(registry.list()), plain(model.all()), `${where}: DUMP`);
      assert.deepEqual(plain(registry.snapshot()), plain(model.entries), `${where}: snapshot`);
      assert.equal(registry.size, model.all().length, where);
      assert.deepEqual(registry.mappings(), model.mappings(), `${where}: the portmapper's DUMP`);
      for (const program of [...PROGRAMS, 7]) {
        for (const netid of NETIDS) {
          assert.deepEqual(registry.versions(program, netid), model.versions(program, netid), where);
          for (const version of [...VERSIONS, 9]) {
            const got = registry.find(program, version, netid);
            const want = model.find(program, version, netid);
            assert.deepEqual(
              got && { ...got },
              want && { ...want },
              `${where}: find ${program} ${version} ${netid}`,
            );
          }
        }
        for (const version of [...VERSIONS, 9]) {
          assert.deepEqual(
            plain(registry.findAll(program, version)),
            plain(model.all().filter((e) => e.program === program && e.version === version)),
            where,
          );
          for (const protocol of [6, 17, 0])
            assert.equal(
              registry.getPort(program, version, protocol),
              model.getPort(program, version, protocol),
              where,
            );
        }
      }
    }
    for (const kind of ["set", "unset", "apply set", "apply unset", "load", "setOwn"])
      assert.ok((kinds.get(kind) ?? 0) > 50, `${kind} was made often enough`);
  });
}

test("a registration's port is read when it is set: GETPORT and the portmapper's DUMP agree after apply and load", () => {
  const r = new Registry();
  const P = 0x2000_0a10;
  r.set({ program: P, version: 1, netid: "tcp", address: "0.0.0.0.4.1", owner: "superuser" });
  r.apply({
    type: "set",
    registration: { program: P, version: 1, netid: "tcp", address: "0.0.0.0.8.2", owner: "superuser" },
  });
  assert.equal(r.getPort(P, 1, 6), 0x0802);
  r.load([{ program: P, version: 2, netid: "udp", address: "0.0.0.0.1.3", owner: "1000" }]);
  assert.equal(r.getPort(P, 1, 6), 0);
  assert.equal(r.getPort(P, 1, 17), 0x0103, "the program's last port on udp");
  assert.deepEqual(r.mappings(), [{ prog: P, vers: 2, prot: 17, port: 0x0103 }]);
  // A netid in capitals is no portmapper mapping, as in rpcbind (pmap_svc.c compares "tcp" and "udp").
  r.set({ program: P, version: 3, netid: "TCP", address: "0.0.0.0.1.4", owner: "1000" });
  assert.equal(r.getPort(P, 3, 6), 0);
  assert.equal(r.find(P, 3, "tcp")?.address, "0.0.0.0.1.4");
});

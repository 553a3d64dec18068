/**
 * The registry's SET, UNSET and lookups, each rule as rpcbind 1.2.6's
 * map_set, map_unset, find_service and the portmapper's view have it (the
 * same cases were run against Debian's rpcbind).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Registration, Registry } from "once-rpc/binder";

const P = 0x2000_0888;

function reg(version: number, netid: string, address: string, owner = "superuser"): Registration {
  return { program: P, version, netid, address, owner };
}

describe("SET", () => {
  test("adds a registration; the same address again is a success that adds nothing", () => {
    const r = new Registry();
    assert.equal(r.set(reg(1, "tcp", "127.0.0.1.4.1")), true);
    assert.equal(r.set(reg(1, "tcp", "127.0.0.1.4.1", "1000")), true);
    assert.equal(r.size, 1);
    assert.equal(r.list()[0].owner, "superuser");
  });

  test("fails when (program, version, netid) is registered at another address; netids compare without case", () => {
    const r = new Registry();
    r.set(reg(1, "tcp", "127.0.0.1.4.1"));
    assert.equal(r.set(reg(1, "tcp", "127.0.0.1.4.2")), false);
    assert.equal(r.set(reg(1, "TCP", "127.0.0.1.4.2")), false);
    assert.equal(r.set(reg(1, "udp", "127.0.0.1.4.2")), true);
    assert.equal(r.set(reg(2, "tcp", "127.0.0.1.4.2")), true);
  });

  test("takes any netid and address, as rpcbind does", () => {
    const r = new Registry();
    assert.equal(r.set(reg(3, "foo", "whatever")), true);
    assert.deepEqual(r.list(), [reg(3, "foo", "whatever")]);
  });

  test("past maxEntries a new registration fails; the same one again still succeeds", () => {
    const r = new Registry({ maxEntries: 2 });
    assert.equal(r.set(reg(1, "tcp", "a")), true);
    assert.equal(r.set(reg(2, "tcp", "b")), true);
    assert.equal(r.set(reg(3, "tcp", "c")), false);
    assert.equal(r.set(reg(1, "tcp", "a")), true);
    r.unset(P, 1, "", "superuser");
    assert.equal(r.set(reg(3, "tcp", "c")), true);
  });

  test("lists in the order set, after the binder's own", () => {
    const r = new Registry();
    r.set(reg(1, "udp", "0.0.0.0.4.3"));
    r.setOwn([{ program: 100000, version: 4, netid: "tcp", address: "127.0.0.1.0.111", owner: "superuser" }]);
    r.set(reg(1, "tcp", "0.0.0.0.4.4"));
    assert.deepEqual(
      r.list().map((e) => `${e.program}/${e.version}/${e.netid}`),
      ["100000/4/tcp", `${P}/1/udp`, `${P}/1/tcp`],
    );
  });
});

describe("UNSET", () => {
  test("an empty netid removes every netid of (program, version)", () => {
    const r = new Registry();
    r.set(reg(1, "tcp", "a"));
    r.set(reg(1, "udp", "b"));
    r.set(reg(2, "udp", "c"));
    assert.equal(r.unset(P, 1, "", "superuser"), true);
    assert.deepEqual(r.list(), [reg(2, "udp", "c")]);
  });

  test("a netid removes that netid only", () => {
    const r = new Registry();
    r.set(reg(1, "tcp", "a"));
    r.set(reg(1, "udp", "b"));
    assert.equal(r.unset(P, 1, "UDP", "superuser"), true);
    assert.deepEqual(r.list(), [reg(1, "tcp", "a")]);
  });

  test("nothing to remove is still true", () => {
    assert.equal(new Registry().unset(P, 9, "", "1000"), true);
  });

  test("only the owner or the superuser; at the first refusal it stops, keeping what it removed", () => {
    const r = new Registry();
    r.set(reg(1, "tcp", "a", "1000"));
    r.set(reg(1, "udp", "b", "superuser"));
    r.set(reg(1, "tcp6", "c", "1000"));
    assert.equal(r.unset(P, 1, "", "1000"), false);
    assert.deepEqual(r.list(), [reg(1, "udp", "b", "superuser"), reg(1, "tcp6", "c", "1000")]);
    assert.equal(r.unset(P, 1, "", "unknown"), false);
    assert.equal(r.unset(P, 1, "", "superuser"), true);
    assert.equal(r.size, 0);
  });
});

describe("lookups", () => {
  const r = new Registry();
  r.set(reg(1, "tcp", "127.0.0.1.4.1"));
  r.set(reg(7, "tcp", "0.0.0.0.4.3"));
  r.set(reg(1, "udp", "0.0.0.0.4.3"));
  r.set(reg(2, "udp", "0.0.0.0.4.4"));
  r.set(reg(3, "tcp6", "::1.4.5"));
  r.set(reg(3, "local", "/run/x.sock"));

  test("find: the version asked for, else the program's last registration on that netid", () => {
    assert.equal(r.find(P, 1, "tcp")?.address, "127.0.0.1.4.1");
    assert.equal(r.find(P, 9, "udp")?.version, 2);
    assert.equal(r.find(P, 9, "tcp")?.version, 7);
    assert.equal(r.find(P, 1, "local")?.version, 3);
    assert.equal(r.find(P + 1, 1, "tcp"), undefined);
  });

  test("versions: the range registered on a netid", () => {
    assert.deepEqual(r.versions(P, "tcp"), { low: 1, high: 7 });
    assert.deepEqual(r.versions(P, "udp"), { low: 1, high: 2 });
    assert.equal(r.versions(P, "udp6"), undefined);
  });

  test("the portmapper's view: tcp and udp only, in order", () => {
    assert.deepEqual(r.mappings(), [
      { prog: P, vers: 1, prot: 6, port: 1025 },
      { prog: P, vers: 7, prot: 6, port: 1027 },
      { prog: P, vers: 1, prot: 17, port: 1027 },
      { prog: P, vers: 2, prot: 17, port: 1028 },
    ]);
  });

  test("GETPORT: the version asked for, else the program's last port on that protocol (rpcbind: 1025, 1028, 1027)", () => {
    assert.equal(r.getPort(P, 1, 6), 1025);
    assert.equal(r.getPort(P, 9, 17), 1028);
    assert.equal(r.getPort(P, 3, 6), 1027);
    assert.equal(r.getPort(P, 1, 99), 0);
    assert.equal(r.getPort(P + 1, 1, 6), 0);
  });

  test("findAll: one version, every netid", () => {
    assert.deepEqual(
      r.findAll(P, 3).map((e) => e.netid),
      ["tcp6", "local"],
    );
  });
});

/**
 * Who may SET and UNSET, and who owns what they register: the rules of
 * rpcbind 1.2.6 (loopback and the Unix socket; AUTH_TOOWEAK for others),
 * our tokens, and a refusal seen over the network from this host's own
 * non-loopback address.
 */
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { describe, test } from "node:test";
import { AuthStat, authSys, type Credentials, createClient, isRpcError, silentLogger } from "once-rpc";
import { authorize, createBinder, PmapProgV2, RpcbprogV3 } from "once-rpc/binder";

const NONE: Credentials = { flavor: 0 };
const sys = (uid: number, machinename = "host"): Credentials => ({
  flavor: 1,
  sys: { stamp: 0, machinename, uid, gid: 0, gids: [] },
});
const tcp = (host: string, port = 40000) => ({ protocol: "tcp", host, port }) as const;
const UNIX = { protocol: "unix", path: "/run/rpcbind.sock" } as const;

describe("authorize", () => {
  test("the Unix socket: always, owned by the uid the caller states", () => {
    assert.deepEqual(authorize(UNIX, NONE, 3, "0"), { allowed: true, owner: "superuser" });
    assert.deepEqual(authorize(UNIX, NONE, 3, "1000"), { allowed: true, owner: "1000" });
    assert.deepEqual(authorize(UNIX, NONE, 3, "superuser"), { allowed: true, owner: "superuser" });
    assert.deepEqual(authorize(UNIX, NONE, 3, "bob"), { allowed: true, owner: "unknown" });
    assert.deepEqual(authorize(UNIX, NONE, 2, undefined), { allowed: true, owner: "unknown" });
    assert.deepEqual(authorize(UNIX, sys(1000), 3, "0"), { allowed: true, owner: "1000" });
  });

  test("loopback over TCP and UDP: allowed, owner unknown (root on a privileged port for version 2)", () => {
    for (const host of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) {
      assert.deepEqual(authorize(tcp(host), sys(0), 3, "0"), { allowed: true, owner: "unknown" });
    }
    assert.deepEqual(authorize(tcp("127.0.0.1", 700), NONE, 2, undefined), {
      allowed: true,
      owner: "superuser",
    });
    assert.deepEqual(authorize(tcp("127.0.0.1", 700), NONE, 3, "0"), { allowed: true, owner: "unknown" });
  });

  test("any other address: refused, unless insecure or with a token", () => {
    assert.deepEqual(authorize(tcp("10.0.0.2"), sys(0), 3, "0"), { allowed: false });
    assert.deepEqual(authorize(tcp("10.0.0.2"), NONE, 3, "", { insecure: true }), {
      allowed: true,
      owner: "unknown",
    });
    const tokens = ["s3cret", "other"];
    assert.deepEqual(authorize(tcp("10.0.0.2"), sys(1000, "s3cret"), 3, "", { tokens }), {
      allowed: true,
      owner: "1000",
    });
    assert.deepEqual(authorize(tcp("10.0.0.2"), sys(0, "other"), 2, undefined, { tokens }), {
      allowed: true,
      owner: "superuser",
    });
    assert.deepEqual(authorize(tcp("10.0.0.2"), sys(0, "wrong"), 3, "", { tokens }), { allowed: false });
    assert.deepEqual(authorize(tcp("10.0.0.2"), sys(0, ""), 3, "", { tokens: [""] }), { allowed: false });
  });
});

/** This host's first address that is not loopback, if it has one. */
const external = Object.values(networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === "IPv4" && !i.internal)?.address;

test("over the network, a SET from this host's own non-loopback address is AUTH_TOOWEAK; with the token it goes", {
  skip: external === undefined ? "this host has no non-loopback IPv4 address" : false,
}, async () => {
  const binder = createBinder({ tokens: ["t0ken"], server: { logger: silentLogger } });
  const at = await binder.listen(`tcp://${external}:0`);
  const target = `tcp://${external}:${(at as { port: number }).port}`;
  const plain = createClient(RpcbprogV3, target);
  const pmap = createClient(PmapProgV2, plain.$channel);
  const withToken = createClient(RpcbprogV3, target, {
    auth: authSys({ machineName: "t0ken", uid: 0, gid: 0 }),
  });
  try {
    const args = { r_prog: 0x2000_0b10, r_vers: 1, r_netid: "tcp", r_addr: "10.9.8.7.0.1", r_owner: "0" };
    for (const attempt of [
      plain.set(args),
      plain.unset(args),
      pmap.set({ prog: 1, vers: 1, prot: 6, port: 1 }),
    ]) {
      await assert.rejects(
        attempt,
        (e) =>
          isRpcError(e) && e.code === "AUTH_ERROR" && "authStat" in e && e.authStat === AuthStat.AUTH_TOOWEAK,
      );
    }
    assert.equal(await plain.getaddr({ ...args, r_addr: "" }), "");
    assert.equal(await withToken.set(args), true);
    assert.equal(binder.registry.find(0x2000_0b10, 1, "tcp")?.owner, "superuser");
    assert.equal(await withToken.unset(args), true);
  } finally {
    plain.$destroy();
    withToken.$destroy();
    await binder.close();
  }
});

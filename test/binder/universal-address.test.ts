/**
 * Universal addresses (RFC 5665 §5.2.3) and netids, and the struct sockaddr
 * forms of UADDR2TADDR / TADDR2UADDR, against what Debian's rpcbind 1.2.6
 * answered for the same inputs (recorded in the comments).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatIPv6,
  formatUniversalAddress,
  isLoopbackHost,
  isWildcardHost,
  NO_TRANSPORT_ADDRESS,
  netidInfo,
  netidOf,
  parseIPv6,
  parseUniversalAddress,
  transportToUniversal,
  universalAddressPort,
  universalToTransport,
} from "once-rpc/binder";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("universal addresses", () => {
  test("IPv4: the port as two more octets (RFC 5665 §5.2.3.3)", () => {
    assert.equal(
      formatUniversalAddress({ protocol: "tcp", host: "127.0.0.1", port: 111 }),
      "127.0.0.1.0.111",
    );
    assert.equal(formatUniversalAddress({ protocol: "udp", host: "10.1.2.3", port: 2049 }), "10.1.2.3.8.1");
    assert.equal(
      formatUniversalAddress({ protocol: "udp", host: "0.0.0.0", port: 65535 }),
      "0.0.0.0.255.255",
    );
    assert.deepEqual(parseUniversalAddress("127.0.0.1.0.111", "tcp"), {
      protocol: "tcp",
      host: "127.0.0.1",
      port: 111,
    });
    assert.deepEqual(parseUniversalAddress("10.1.2.3.8.1", "udp"), {
      protocol: "udp",
      host: "10.1.2.3",
      port: 2049,
    });
  });

  test("IPv6 as inet_ntop writes it, then .p1.p2 (RFC 5665 §5.2.3.4)", () => {
    assert.equal(formatUniversalAddress({ protocol: "tcp", host: "::1", port: 2049 }), "::1.8.1");
    assert.equal(formatUniversalAddress({ protocol: "tcp", host: "::", port: 111 }), "::.0.111");
    assert.equal(
      formatUniversalAddress({ protocol: "udp", host: "FE80:0:0:0:0:0:0:1", port: 1025 }),
      "fe80::1.4.1",
    );
    assert.deepEqual(parseUniversalAddress("::1.8.1", "tcp6"), { protocol: "tcp", host: "::1", port: 2049 });
    assert.deepEqual(parseUniversalAddress("fe80:0::1.4.1", "udp6"), {
      protocol: "udp",
      host: "fe80::1",
      port: 1025,
    });
  });

  test("an IPv4-mapped host (a dual-stack socket's IPv4 peer) is written as IPv4, netid tcp", () => {
    const peer = { protocol: "tcp", host: "::ffff:127.0.0.1", port: 700 } as const;
    assert.equal(formatUniversalAddress(peer), "127.0.0.1.2.188");
    assert.equal(netidOf(peer), "tcp");
  });

  test("local sockets: the path, netid local", () => {
    assert.equal(
      formatUniversalAddress({ protocol: "unix", path: "/run/rpcbind.sock" }),
      "/run/rpcbind.sock",
    );
    assert.deepEqual(parseUniversalAddress("/run/rpcbind.sock", "local"), {
      protocol: "unix",
      path: "/run/rpcbind.sock",
    });
    assert.deepEqual(parseUniversalAddress("/tmp/x", "unix"), { protocol: "unix", path: "/tmp/x" });
    assert.equal(parseUniversalAddress("relative", "local"), undefined);
  });

  test("what does not parse is undefined", () => {
    for (const [uaddr, netid] of [
      ["127.0.0.1.0", "tcp"],
      ["127.0.0.1.0.256", "tcp"],
      ["127.0.0.1.300.1", "tcp"],
      ["127.0.0.256.0.1", "tcp"],
      ["host.example.0.111", "tcp"],
      ["1:2:3:4:5:6:7:8:9.0.1", "tcp6"],
      ["1::2::3.0.1", "tcp6"],
      ["127.0.0.1.0.111", "sctp"],
      ["", "udp"],
    ]) {
      assert.equal(parseUniversalAddress(uaddr, netid), undefined, `${uaddr} on ${netid}`);
    }
  });

  test("the port of a universal address, as the portmapper view reads it", () => {
    assert.equal(universalAddressPort("0.0.0.0.197.10"), 50442);
    assert.equal(universalAddressPort("::.0.111"), 111);
    assert.equal(universalAddressPort("/run/rpcbind.sock"), undefined);
  });
});

describe("netids", () => {
  test("of addresses", () => {
    assert.equal(netidOf({ protocol: "tcp", host: "127.0.0.1", port: 1 }), "tcp");
    assert.equal(netidOf({ protocol: "udp", host: "10.0.0.1", port: 1 }), "udp");
    assert.equal(netidOf({ protocol: "tcp", host: "::1", port: 1 }), "tcp6");
    assert.equal(netidOf({ protocol: "udp", host: "fe80::1", port: 1 }), "udp6");
    assert.equal(netidOf({ protocol: "unix", path: "/x" }), "local");
  });

  test("their netconfig entries, as GETADDRLIST reports them", () => {
    assert.deepEqual(netidInfo("tcp"), { netid: "tcp", semantics: 3, family: "inet", proto: "tcp" });
    assert.deepEqual(netidInfo("udp6"), { netid: "udp6", semantics: 1, family: "inet6", proto: "udp" });
    assert.deepEqual(netidInfo("local"), { netid: "local", semantics: 3, family: "loopback", proto: "-" });
    assert.equal(netidInfo("foo"), undefined);
    assert.equal(netidInfo("constructor"), undefined);
  });
});

describe("hosts", () => {
  test("loopback and wildcard", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ["10.0.0.1", "::", "::2", "0.0.0.0", "localhost"])
      assert.ok(!isLoopbackHost(host), host);
    for (const host of ["0.0.0.0", "::", "0:0::0"]) assert.ok(isWildcardHost(host), host);
    assert.ok(!isWildcardHost("127.0.0.1"));
  });

  test("IPv6 text as glibc's inet_ntop writes it", () => {
    const cases: Array<[string, string]> = [
      ["0:0:0:0:0:0:0:0", "::"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["1:0:0:0:0:0:0:0", "1::"],
      ["fe80:0:0:0:0:0:0:1", "fe80::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
      ["0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"],
      ["::1.2.3.4", "::1.2.3.4"],
    ];
    for (const [input, output] of cases)
      assert.equal(formatIPv6(parseIPv6(input) as number[]), output, input);
  });
});

describe("transport addresses (struct sockaddr in a netbuf)", () => {
  test("UADDR2TADDR over tcp: a sockaddr_in, maxlen 16 (rpcbind: 020004017f0000010000000000000000)", () => {
    const t = universalToTransport("127.0.0.1.4.1", "tcp");
    assert.ok(t);
    assert.equal(t.maxlen, 16);
    assert.equal(hex(t.buf), "020004017f0000010000000000000000");
  });

  test("over tcp6: a sockaddr_in6, maxlen 28", () => {
    const t = universalToTransport("fe80::1.4.1", "tcp6");
    assert.ok(t);
    assert.equal(t.maxlen, 28);
    assert.equal(hex(t.buf), "0a00040100000000fe80000000000000000000000000000100000000");
  });

  test("over local: a sockaddr_un of the path's length, maxlen 110 (rpcbind: 01002f746d702f78)", () => {
    const t = universalToTransport("/tmp/x", "local");
    assert.ok(t);
    assert.equal(t.maxlen, 110);
    assert.equal(hex(t.buf), "01002f746d702f78");
  });

  test("nonsense is the empty netbuf", () => {
    assert.equal(universalToTransport("nonsense", "tcp"), undefined);
    assert.deepEqual(NO_TRANSPORT_ADDRESS, { maxlen: 0, buf: new Uint8Array(0) });
  });

  test("TADDR2UADDR reads the buffer as the transport's family (rpcbind: 127.0.0.1.4.1, ::1.4.1)", () => {
    const v4 = Buffer.from("020004017f0000010000000000000000", "hex");
    assert.equal(transportToUniversal(v4, "tcp"), "127.0.0.1.4.1");
    const v6 = Buffer.from("0a000401000000000000000000000000000000000000000100000000", "hex");
    assert.equal(transportToUniversal(v6, "tcp6"), "::1.4.1");
    // rpcbind reads a sockaddr_in6 sent over tcp as a sockaddr_in: 0.0.0.0.4.1.
    assert.equal(transportToUniversal(v6, "udp"), "0.0.0.0.4.1");
    assert.equal(transportToUniversal(new Uint8Array([2, 0, 1]), "tcp"), undefined);
    assert.equal(transportToUniversal(Buffer.from("01002f746d702f7800", "hex"), "local"), "/tmp/x");
  });
});

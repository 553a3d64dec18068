/**
 * `once binder`: runs a binder (portmapper version 2, rpcbind versions 3
 * and 4) until SIGINT or SIGTERM.
 */
import { type Binder, createBinder, ETCD_SHARE_DEFAULTS, isStoreError } from "../binder/index.js";
import { formatAddress, parseAddress } from "../transport/index.js";
import { parseCommandLine, UsageError } from "./usage.js";

/** Where `once binder` listens without --listen: where libtirpc clients and rpcinfo look on this host. */
export const DEFAULT_BINDER_LISTEN = [
  "tcp://127.0.0.1:111",
  "udp://127.0.0.1:111",
  "unix:///run/rpcbind.sock",
];

const HELP = `Usage: once binder [--listen ADDRESS]... [--token TOKEN]... [--insecure] [--no-remote-calls]
                   [--state FILE [--state-check]] [--etcd URL]... [--etcd-prefix P] [--etcd-lease-ms MS]

Runs a binder that stands in for rpcbind: the portmapper (program 100000
version 2) and rpcbind versions 3 and 4, so that rpcinfo, libtirpc servers
(svc_create, pmap_set) and clients (clnt_create) use it unchanged. It runs
until SIGINT or SIGTERM, printing 'listening on ADDRESS' for each address.

Options:
      --listen ADDRESS   tcp://HOST:PORT, udp://HOST:PORT, unix:///PATH, or HOST:PORT for
                         both TCP and UDP; repeat for more (default: ${DEFAULT_BINDER_LISTEN.join(", ")})
      --token TOKEN      let callers from any address SET and UNSET when they send TOKEN as
                         the machine name of an AUTH_SYS credential (repeatable)
      --insecure         let anyone SET and UNSET, as 'rpcbind -i'
      --no-remote-calls  do not forward CALLIT, BCAST and INDIRECT (Debian's rpcbind without -r)
      --state FILE       keep the registrations in FILE: loaded at start, rewritten atomically
                         after each change (SET and UNSET answer once it is written)
      --state-check      at start, drop restored registrations whose server does not answer
                         a NULL call within 1 s (rpcbind -w keeps them all)
      --etcd URL         share the registrations with the other binders using this etcd
                         (a client URL, http://HOST:PORT; repeat for the cluster's members)
      --etcd-prefix P    the key prefix the sharing binders use (default ${ETCD_SHARE_DEFAULTS.prefix})
      --etcd-lease-ms MS a dead binder's registrations leave etcd this long after its last
                         renewal (default ${ETCD_SHARE_DEFAULTS.leaseTtlMs})
  -h, --help             this text

Without --insecure or a token, only callers on the Unix socket and on loopback
addresses may SET and UNSET; others get AUTH_ERROR (AUTH_TOOWEAK), as from rpcbind.
Port 111 needs root, and a running rpcbind must be stopped first
(systemctl stop rpcbind rpcbind.socket).

Examples:
  once binder
  once binder --listen 0.0.0.0:111 --listen unix:///run/rpcbind.sock
  once binder --listen tcp://127.0.0.1:1111 --listen udp://127.0.0.1:1111 --token "$(cat /etc/once/token)"
  once binder --state /var/lib/once/binder.json --etcd http://10.0.0.1:2379 --etcd http://10.0.0.2:2379
  rpcinfo -p 127.0.0.1      # what it has registered
`;

/** `once binder`: runs until a signal, then closes; the exit status is 1 when it cannot listen. */
export async function runBinder(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args,
    allowPositionals: true,
    options: {
      listen: { type: "string", multiple: true },
      token: { type: "string", multiple: true },
      insecure: { type: "boolean" },
      "no-remote-calls": { type: "boolean" },
      state: { type: "string" },
      "state-check": { type: "boolean" },
      etcd: { type: "string", multiple: true },
      "etcd-prefix": { type: "string" },
      "etcd-lease-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const addresses = (values.listen ?? DEFAULT_BINDER_LISTEN).flatMap(expandListen);
  if (values.token?.some((t) => t === "")) throw new UsageError("--token cannot be empty");
  if (values["state-check"] && values.state === undefined)
    throw new UsageError("--state-check needs --state");
  if (
    (values["etcd-prefix"] !== undefined || values["etcd-lease-ms"] !== undefined) &&
    values.etcd === undefined
  ) {
    throw new UsageError("--etcd-prefix and --etcd-lease-ms need --etcd");
  }
  const binder = createBinder({
    tokens: values.token,
    insecure: values.insecure,
    remoteCalls: !values["no-remote-calls"],
    stateFile: values.state,
    checkRestored: values["state-check"],
    share: values.etcd === undefined ? undefined : { etcd: etcdOptions(values.etcd, values) },
  });
  for (const address of addresses) {
    try {
      const bound = await binder.listen(address);
      process.stdout.write(`listening on ${formatAddress(bound)}\n`);
    } catch (error) {
      if (isStoreError(error)) {
        // The state file or etcd, loaded before the first address: nothing was listened on.
        process.stderr.write(`once binder: ${error.message}\n`);
        await binder.destroy();
        return 1;
      }
      process.stderr.write(`once binder: cannot listen on ${formatAddress(address)}: ${explain(error)}\n`);
      await binder.destroy();
      return 1;
    }
  }
  return waitForSignal(binder);
}

/** --etcd URL… with --etcd-prefix and --etcd-lease-ms. */
function etcdOptions(urls: string[], values: { "etcd-prefix"?: string; "etcd-lease-ms"?: string }) {
  for (const url of urls) {
    if (!/^https?:\/\/[^/]+\/?$/.test(url)) throw new UsageError(`--etcd ${url}: not http://HOST:PORT`);
  }
  const lease = values["etcd-lease-ms"];
  if (lease !== undefined && !/^[1-9]\d*$/.test(lease))
    throw new UsageError(`--etcd-lease-ms ${lease}: not a number of ms`);
  return {
    endpoints: urls,
    prefix: values["etcd-prefix"],
    leaseTtlMs: lease === undefined ? undefined : Number(lease),
  };
}

/** HOST:PORT means TCP and UDP; anything else is one address. */
function expandListen(text: string) {
  if (!text.includes("://")) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
    if (m === null) throw new UsageError(`--listen ${text}: not HOST:PORT or an address`);
    return [parseListen(`tcp://${text}`), parseListen(`udp://${text}`)];
  }
  return [parseListen(text)];
}

function parseListen(text: string) {
  try {
    return parseAddress(text);
  } catch (error) {
    throw new UsageError(`--listen ${text}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function explain(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "EADDRINUSE") {
    return "the address is in use (is rpcbind running? systemctl stop rpcbind rpcbind.socket)";
  }
  if (code === "EACCES") return "permission denied (ports below 1024 and /run need root)";
  return error instanceof Error ? error.message : String(error);
}

function waitForSignal(binder: Binder): Promise<number> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      binder.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

/**
 * The gRPC row of the RPC benchmark: @grpc/grpc-js, both ends, unary calls of
 * bench/fixtures/echo.proto (loaded at run time by @grpc/proto-loader, as
 * grpc-js's own examples do), over HTTP/2 without TLS on 127.0.0.1.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO = fileURLToPath(new URL("../../fixtures/echo.proto", import.meta.url));

/** bench.Small as proto-loader gives and takes it. */
export interface GrpcSmall {
  id: number;
  name: string;
  score: number;
  list: number[];
}

/** bench.Bulk as proto-loader gives and takes it. */
export interface GrpcBulk {
  data: Uint8Array;
}

type Callback<T> = (error: grpc.ServiceError | null, value?: T) => void;

/** The stub proto-loader makes for `service Echo`. */
interface EchoStub extends grpc.Client {
  EchoSmall(request: GrpcSmall, callback: Callback<GrpcSmall>): grpc.ClientUnaryCall;
  EchoBulk(request: GrpcBulk, callback: Callback<GrpcBulk>): grpc.ClientUnaryCall;
}

function loadEchoService(): grpc.ServiceClientConstructor {
  // keepCase: field names as in the .proto; the defaults otherwise (bytes as Buffers).
  const definition = protoLoader.loadSync(PROTO, { keepCase: true });
  const bench = grpc.loadPackageDefinition(definition).bench as grpc.GrpcObject;
  return bench.Echo as grpc.ServiceClientConstructor;
}

/** Starts a grpc-js server of `bench.Echo` on 127.0.0.1 whose methods answer their request. */
export async function startGrpcServer(): Promise<{ server: grpc.Server; port: number }> {
  const Echo = loadEchoService();
  const server = new grpc.Server();
  const echo = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, call.request);
  server.addService(Echo.service, { EchoSmall: echo, EchoBulk: echo });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, port };
}

/** A grpc-js client of `bench.Echo` on 127.0.0.1:port, its methods as promises. */
export interface GrpcEchoClient {
  small(request: GrpcSmall): Promise<GrpcSmall>;
  bulk(request: GrpcBulk): Promise<GrpcBulk>;
  close(): void;
}

/** Makes the client and waits until its channel is ready. */
export async function connectGrpc(port: number): Promise<GrpcEchoClient> {
  const Echo = loadEchoService();
  const stub = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as EchoStub;
  await new Promise<void>((resolve, reject) =>
    stub.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
  );
  const promised =
    <T>(method: (request: T, callback: Callback<T>) => grpc.ClientUnaryCall) =>
    (request: T) =>
      new Promise<T>((resolve, reject) =>
        method.call(stub, request, (error, value) => (error ? reject(error) : resolve(value as T))),
      );
  return {
    small: promised<GrpcSmall>(stub.EchoSmall),
    bulk: promised<GrpcBulk>(stub.EchoBulk),
    close: () => stub.close(),
  };
}

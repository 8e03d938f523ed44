// Helpers for this package's tests: loopback HTTP servers standing in for external systems.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StepError } from './step-error.ts';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  host: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export type TestHandler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => unknown;

/** A node:http server on 127.0.0.1, port 0, that records every request (with its body). */
export async function startServer(handler: TestHandler): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((raw, res) => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const req = {
        method: raw.method ?? '',
        url: raw.url ?? '',
        headers: raw.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(req);
      Promise.resolve(handler(req, res, raw)).catch((error: unknown) => {
        res.statusCode = 599;
        res.end(String(error));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = await startServer(() => {});
  const port = Number(new URL(server.url).port);
  await server.close();
  return port;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The StepError a promise rejects with (fails the test when it resolves or rejects otherwise). */
export async function stepFailure(promise: Promise<unknown>): Promise<StepError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    if (error instanceof StepError) return error;
    throw new Error(`expected a StepError, got ${String(error)}`, { cause: error });
  }
  throw new Error(`expected a StepError, but the step returned ${JSON.stringify(result)}`);
}

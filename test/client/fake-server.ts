// A tiny HTTPS server for client tests that counts the requests it gets and answers what the
// test tells it to, with a certificate for localhost and 127.0.0.1 from the test PKI.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Issued } from '../support/certs.js';

export interface FakeAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface FakeServer {
  url: string;
  /** Paths requested, in order. */
  requests: string[];
  stop(): Promise<void>;
}

/** Starts the server on 127.0.0.1; every request gets `answer`. */
export async function startFakeServer(server: Issued, answer: FakeAnswer): Promise<FakeServer> {
  const requests: string[] = [];
  const https: Server = createServer({ cert: server.certPem, key: server.keyPem }, (req, res) => {
    requests.push(req.url ?? '');
    req.resume();
    req.on('end', () => {
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  const { port } = https.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise((resolve) => {
        https.closeAllConnections();
        https.close(() => resolve());
      }),
  };
}

// The HTTPS join endpoint: mutual TLS, strict schemas, limits on size, time, connections and
// rate, one audit line per decision, and errors from the registry in protocol/errors.ts.
import { constants as cryptoConstants, randomUUID } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../common/log.js';
import { ERROR_CODES, type ErrorCode, errorBody } from '../../protocol/errors.js';
import {
  type HostConfRequest,
  hostConfRequestSchema,
  hostPathSchema,
  type RegisterRequest,
  registerRequestSchema,
  type SigningKeysResponse,
} from '../../protocol/messages.js';
import { DirectoryError } from '../ldap/errors.js';
import type { DaemonConfig } from './config.js';
import { type EnrollmentContext, hostConf, type Outcome, register } from './enrollment.js';
import { type ClientIdentity, identityFromCertificate } from './identity.js';

export const BODY_LIMIT = 16 * 1024;
const RETRY_AFTER_S = 30;
// TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3 suites are all acceptable.
const CIPHERS = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

export interface TlsMaterial {
  cert: string;
  key: string;
  /** CA certificates client certificates must chain to. */
  clientCas: string[];
}

export interface ServerOptions {
  config: DaemonConfig;
  tls: TlsMaterial;
  ctx: EnrollmentContext;
  audit: Logger;
  /** True when the directory answers. */
  health: () => Promise<boolean>;
}

/** A refusal carrying its registry code and the precise reason for the audit line. */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
    readonly detail?: string,
  ) {
    super(ERROR_CODES[code].title);
    this.statusCode = ERROR_CODES[code].status;
  }
}

interface AuditState {
  started: number;
  identity?: ClientIdentity;
  fqdn?: string;
  reason?: string;
}

const audits = new WeakMap<FastifyRequest, AuditState>();

/** Builds the Fastify app on an HTTPS server; call listen() to serve. */
export async function createEnrollmentServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    serverFactory: (handler) => httpsServer(opts, handler),
    bodyLimit: BODY_LIMIT,
    genReqId: () => randomUUID(),
    logger: false,
    return503OnClosing: true,
    // An FQDN may have 255 characters (the policy then refuses more than 63, saying why).
    maxParamLength: 300,
    frameworkErrors: (err, req, reply) => {
      void sendError(req, reply, new ApiError('invalid-request', `http-${err.code.toLowerCase()}`));
    },
    clientErrorHandler: (err, socket) => clientError(err, socket, opts.audit),
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
  });
  addJsonParser(app);
  addAudit(app, opts.audit);
  app.setErrorHandler((err, req, reply) => sendError(req, reply, toApiError(err, opts.audit, req)));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, new ApiError('not-found', 'no-such-route')),
  );
  await app.register(rateLimit, { global: false });
  addRoutes(app, opts);
  return app;
}

function httpsServer(
  opts: ServerOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): HttpsServer {
  const { config, tls } = opts;
  const server = createHttpsServer(
    {
      cert: tls.cert,
      key: tls.key,
      ca: tls.clientCas,
      // The certificate is verified by OpenSSL; an unverified one is answered with a plain 403
      // over HTTP (and its precise reason logged) instead of a bare TLS alert.
      requestCert: true,
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      ciphers: CIPHERS,
      honorCipherOrder: true,
      // Renegotiation could swap the client certificate after it was verified: Node keeps
      // `authorized` from the first handshake while reporting the new certificate.
      secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
      // A client that connects and never completes the handshake must not hold a slot for long.
      handshakeTimeout: config.headersTimeoutMs,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.idleTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    handler,
  );
  server.maxConnections = config.maxConnections;
  limitPerAddress(server, config.maxConnectionsPerAddress, opts.audit);
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.disableRenegotiation();
  });
  server.setTimeout(config.idleTimeoutMs);
  return server;
}

// Counted at TCP accept, before the TLS handshake: connections that never speak count too.
function limitPerAddress(server: HttpsServer, max: number, audit: Logger): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    const count = (open.get(address) ?? 0) + 1;
    if (count > max) {
      audit.warn(
        { remote: address, open: count - 1 },
        'connection refused: too many from one address',
      );
      socket.destroy();
      return;
    }

    open.set(address, count);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) {
        open.set(address, left);
      } else {
        open.delete(address);
      }
    });
  });
}

function addJsonParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, {});
      return;
    }

    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new ApiError('invalid-request', 'body-not-json', 'the body is not valid JSON'),
        undefined,
      );
    }
  });
  app.addContentTypeParser('*', (_req, _payload, done) => {
    done(new ApiError('unsupported-media-type', 'content-type-not-json'), undefined);
  });
}

function addAudit(app: FastifyInstance, audit: Logger): void {
  app.addHook('onRequest', (req, _reply, done) => {
    audits.set(req, { started: performance.now() });
    done();
  });
  app.addHook('onRequestAbort', (req, done) => {
    writeAudit(audit, req, 499, 'aborted');
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    writeAudit(audit, req, reply.statusCode);
    done();
  });
}

// One line per decision; a request the client abandoned is logged with the decision made so far.
function writeAudit(audit: Logger, req: FastifyRequest, status: number, outcome?: string): void {
  const a = audits.get(req);
  audit.info(
    {
      request_id: req.id,
      remote: req.ip,
      endpoint: `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      subject: a?.identity?.subject ?? null,
      fqdn: a?.fqdn ?? null,
      outcome: outcome ?? (status < 400 ? 'ok' : 'refused'),
      status,
      reason: a?.reason ?? (status < 400 ? 'ok' : 'unknown'),
      duration_ms: Math.round((performance.now() - (a?.started ?? performance.now())) * 10) / 10,
    },
    'enrollment decision',
  );
}

// Malformed HTTP never reaches a route: answer in the registry's format, log, and close.
function clientError(err: Error & { code?: string }, socket: Duplex, audit: Logger): void {
  audit.info(
    {
      remote: (socket as { remoteAddress?: string }).remoteAddress ?? null,
      outcome: 'refused',
      reason: `http-${(err.code ?? 'client-error').toLowerCase()}`,
    },
    'enrollment decision',
  );
  if (!socket.writable || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }

  const body = JSON.stringify(errorBody('invalid-request', 'none'));
  const head = `HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  socket.end(`${head}${body}`, () => socket.destroy());
}

function note(req: FastifyRequest, fields: Partial<AuditState>): void {
  Object.assign(audits.get(req) ?? {}, fields);
}

/** The verified client identity of a request; throws ApiError when there is none. */
function requireIdentity(req: FastifyRequest): ClientIdentity {
  const socket = req.raw.socket as TLSSocket;
  const cert = socket.getPeerCertificate?.();
  if (!cert || !cert.raw) {
    throw new ApiError('not-authorized', 'no-client-certificate');
  }

  if (!socket.authorized || socket.authorizationError) {
    const why = String(socket.authorizationError ?? 'unverified').toLowerCase();
    throw new ApiError('not-authorized', `certificate-${why}`);
  }

  const checked = identityFromCertificate(cert.raw);
  if (!checked.ok) {
    throw new ApiError('not-authorized', checked.reason);
  }

  note(req, { identity: checked.identity });
  return checked.identity;
}

function addRoutes(app: FastifyInstance, opts: ServerOptions): void {
  const limits = rateLimits(app, opts.config);
  const withIdentity = (req: FastifyRequest): Promise<void> =>
    new Promise((resolve) => {
      requireIdentity(req);
      resolve();
    });
  const onRequest = [limits.address, withIdentity, limits.subject];

  app.post<{ Params: { inventory_id: string; fqdn: string }; Body: HostConfRequest }>(
    '/hcc/host-conf/:inventory_id/:fqdn',
    { schema: { params: hostPathSchema, body: hostConfRequestSchema }, onRequest },
    async (req, reply) => {
      note(req, { fqdn: req.params.fqdn.toLowerCase() });
      const outcome = await hostConf(opts.ctx, hostRequest(req), req.body ?? {});
      return respond(req, reply, outcome);
    },
  );

  app.post<{ Params: { inventory_id: string; fqdn: string }; Body: RegisterRequest }>(
    '/hcc/:inventory_id/:fqdn',
    { schema: { params: hostPathSchema, body: registerRequestSchema }, onRequest },
    async (req, reply) => {
      note(req, { fqdn: req.params.fqdn.toLowerCase() });
      const outcome = await register(opts.ctx, hostRequest(req), req.body);
      return respond(req, reply, outcome);
    },
  );

  app.get('/hcc/signing_keys', { onRequest }, async (req) => {
    const keys = await opts.ctx.store.verificationKeys(opts.ctx.now());
    const now = opts.ctx.now().getTime();
    note(req, { reason: 'signing-keys-listed' });
    const body: SigningKeysResponse = {
      keys: keys
        .filter((k) => k.enabled && k.notAfter.getTime() > now)
        .map((k) => JSON.stringify(k.jwk)),
      revoked_kids: keys.filter((k) => !k.enabled).map((k) => k.jwk.kid),
    };
    return body;
  });

  app.get('/health', { onRequest: [limits.address] }, async (req, reply) => {
    const up = await opts.health().catch(() => false);
    note(req, { reason: up ? 'healthy' : 'directory-unreachable' });
    if (!up) {
      reply.header('retry-after', String(RETRY_AFTER_S));
    }

    return reply
      .code(up ? 200 : 503)
      .send({ status: up ? 'ok' : 'unavailable', directory: up ? 'reachable' : 'unreachable' });
  });
}

function hostRequest(req: FastifyRequest<{ Params: { inventory_id: string; fqdn: string } }>) {
  return {
    identity: requireIdentity(req),
    inventoryId: req.params.inventory_id.toLowerCase(),
    fqdn: req.params.fqdn,
  };
}

function respond<T>(req: FastifyRequest, reply: FastifyReply, outcome: Outcome<T>): T {
  if (!outcome.ok) {
    throw new ApiError(outcome.code, outcome.reason, outcome.detail);
  }

  note(req, { reason: outcome.reason });
  void reply.header('cache-control', 'no-store');
  return outcome.body;
}

// Two limits apply to a request (address, then certificate subject). The plugin's own hook runs
// once per request, so each limit is checked here through createRateLimit.
function rateLimits(app: FastifyInstance, config: DaemonConfig) {
  const limit = (max: number, key: (req: FastifyRequest) => string, reason: string) => {
    const check = app.createRateLimit({ max, timeWindow: 60_000, keyGenerator: key });
    return async (req: FastifyRequest, reply: FastifyReply) => {
      const result = await check(req);
      if (!result.isAllowed && result.isExceeded) {
        void reply.header('retry-after', String(result.ttlInSeconds));
        throw new ApiError('rate-limited', reason);
      }
    };
  };
  return {
    address: limit(config.rateLimitPerAddress, (req) => `ip:${req.ip}`, 'rate-limit-address'),
    subject: limit(
      config.rateLimitPerSubject,
      (req) => `subject:${audits.get(req)?.identity?.subject ?? ''}`,
      'rate-limit-subject',
    ),
  };
}

// Anything not already an ApiError: map what Fastify and the directory layer throw.
function toApiError(err: unknown, audit: Logger, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) {
    return err;
  }

  const e = err as { code?: string; statusCode?: number; validation?: unknown; message?: string };
  if (e.validation) {
    return new ApiError('invalid-request', 'schema-violation', e.message?.slice(0, 200));
  }

  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.statusCode === 413) {
    return new ApiError('body-too-large', 'body-too-large', `at most ${BODY_LIMIT} bytes`);
  }

  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) {
    return new ApiError('unsupported-media-type', 'content-type-not-json');
  }

  if (e.statusCode === 400) {
    return new ApiError('invalid-request', 'bad-request');
  }

  if (err instanceof DirectoryError && (err.transient || err.code === 'unwilling')) {
    return new ApiError('unavailable', `directory-${err.code}`);
  }

  audit.error(
    { request_id: req.id, error: e.message?.split('\n')[0] ?? String(err) },
    'internal error',
  );
  return new ApiError('internal-error', 'internal-error');
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  note(req, { reason: err.reason });
  if (err.code === 'unavailable' || err.code === 'rate-limited') {
    if (!reply.hasHeader('retry-after')) {
      void reply.header('retry-after', String(RETRY_AFTER_S));
    }
  }

  return reply
    .code(err.statusCode)
    .header('cache-control', 'no-store')
    .send(errorBody(err.code, req.id, err.detail));
}

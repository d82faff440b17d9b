// Which servers the client asks, in which order: configured servers, SRV records from a real
// DNS server on loopback, and the register order with and without a location.
import type { SrvRecord } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, resolveAddresses, sortSrv } from '../../client/dns.js';
import { discoverServers, registerOrder, srvServers } from '../../client/discovery.js';
import { Retryable } from '../../client/retry.js';
import { startDns, type TestDns } from '../support/dns.js';

const srv = (name: string, priority: number, weight: number, port = 389): SrvRecord => ({
  name,
  port,
  priority,
  weight,
});

describe('sortSrv', () => {
  it('when records differ in priority and weight then lowest priority, then highest weight, then name come first', () => {
    const records = [
      srv('d.ipa.test', 10, 5),
      srv('b.ipa.test', 0, 10),
      srv('c.ipa.test', 0, 50),
      srv('a.ipa.test', 10, 60),
      srv('e.ipa.test', 0, 10),
    ];

    expect(sortSrv(records).map((r) => r.name)).toEqual([
      'c.ipa.test',
      'b.ipa.test',
      'e.ipa.test',
      'a.ipa.test',
      'd.ipa.test',
    ]);
  });

  it('when a record has the target "." then it is dropped (RFC 2782: no service)', () => {
    expect(sortSrv([srv('.', 0, 0), srv('a.ipa.test', 1, 0)]).map((r) => r.name)).toEqual([
      'a.ipa.test',
    ]);
  });

  it('when two records name the same server then its URL appears once, at the server port', () => {
    expect(srvServers([srv('a.ipa.test', 0, 0, 389), srv('A.ipa.test.', 5, 0, 636)], 9443)).toEqual(
      ['https://a.ipa.test:9443'],
    );
  });
});

describe('registerOrder', () => {
  const named = [
    { fqdn: 'ipa1.ipa.test' },
    { fqdn: 'ipa2.ipa.test', location: 'dc2' },
    { fqdn: 'ipa3.ipa.test', location: 'dc3' },
    { fqdn: 'ipa4.ipa.test', location: 'dc2' },
  ];
  const asked = ['https://ipa3.ipa.test:9443', 'https://10.0.0.5:9443'];

  it('when no location is asked for then the named servers keep their order, then the asked ones', () => {
    expect(registerOrder(named, undefined, asked, 9443)).toEqual([
      'https://ipa1.ipa.test:9443',
      'https://ipa2.ipa.test:9443',
      'https://ipa3.ipa.test:9443',
      'https://ipa4.ipa.test:9443',
      'https://10.0.0.5:9443',
    ]);
  });

  it('when a location is asked for then its servers come first, in their order', () => {
    expect(registerOrder(named, 'dc2', asked, 9443)).toEqual([
      'https://ipa2.ipa.test:9443',
      'https://ipa4.ipa.test:9443',
      'https://ipa1.ipa.test:9443',
      'https://ipa3.ipa.test:9443',
      'https://10.0.0.5:9443',
    ]);
  });

  it('when host-conf named no server then the asked servers are the order', () => {
    expect(registerOrder([], 'dc2', asked, 9443)).toEqual(asked);
  });
});

describe('discoverServers', () => {
  let dns: TestDns;

  beforeAll(async () => {
    dns = await startDns({
      srv: [
        {
          name: '_ldap._tcp.ipa.test',
          target: 'ipa2.ipa.test',
          port: 389,
          priority: 10,
          weight: 5,
        },
        {
          name: '_ldap._tcp.ipa.test',
          target: 'ipa1.ipa.test',
          port: 389,
          priority: 0,
          weight: 10,
        },
        {
          name: '_ldap._tcp.ipa.test',
          target: 'ipa3.ipa.test',
          port: 389,
          priority: 0,
          weight: 90,
        },
      ],
      addresses: [{ name: 'ipa1.ipa.test', ip: '127.0.0.1' }],
    });
  });

  afterAll(async () => {
    await dns.stop();
  });

  it('when servers are configured then DNS is not asked', async () => {
    let asked = 0;
    const resolver = {
      resolveSrv: () => {
        asked++;
        return Promise.resolve([]);
      },
      cancel: () => undefined,
    };

    const found = await discoverServers(
      ['https://a.ipa.test:9443'],
      'ipa.test',
      9443,
      resolver,
      1000,
    );

    expect(found).toEqual({ servers: ['https://a.ipa.test:9443'], source: 'settings' });
    expect(asked).toBe(0);
  });

  it('when the domain has SRV records then they give the servers in order', async () => {
    const found = await discoverServers([], 'ipa.test', 9443, createResolver([dns.address]), 2000);

    expect(found).toEqual({
      servers: [
        'https://ipa3.ipa.test:9443',
        'https://ipa1.ipa.test:9443',
        'https://ipa2.ipa.test:9443',
      ],
      source: '_ldap._tcp.ipa.test',
    });
  });

  it('when the domain has no SRV records then it is a failure worth retrying', async () => {
    const err = await discoverServers(
      [],
      'other.test',
      9443,
      createResolver([dns.address]),
      2000,
    ).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(Retryable);
    expect((err as Retryable).message).toBe(
      'DNS lookup of _ldap._tcp.other.test SRV failed (EREFUSED)',
    );
  });

  it('when the resolver does not answer in time then the lookup is cancelled', async () => {
    let cancelled = false;
    let fail: (err: Error) => void = () => undefined;
    const hanging = {
      resolveSrv: () =>
        new Promise<SrvRecord[]>((_resolve, reject) => {
          fail = reject;
        }),
      cancel: () => {
        cancelled = true;
        fail(Object.assign(new Error('cancelled'), { code: 'ECANCELLED' }));
      },
    };

    const err = await discoverServers([], 'ipa.test', 9443, hanging, 200).catch((e: unknown) => e);

    expect((err as Retryable).message).toBe(
      'DNS lookup of _ldap._tcp.ipa.test SRV failed (ECANCELLED)',
    );
    expect(cancelled).toBe(true);
  });

  it('when a name is looked up through the test resolver then its A record comes back', async () => {
    expect(await resolveAddresses(createResolver([dns.address]), 'ipa1.ipa.test')).toEqual([
      { address: '127.0.0.1', family: 4 },
    ]);
    expect(await resolveAddresses(createResolver([dns.address]), '::1')).toEqual([
      { address: '::1', family: 6 },
    ]);
  });
});

// `ipa-hcc-ts client-config`: what a golden image needs to enroll (server URLs, the IPA CA,
// the domain). Nothing in it is secret.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionFlags } from '../../ipa-plugin/admin-context.js';
import { readDaemonConfig } from '../../ipa-plugin/daemon/config.js';
import { listServers, readRegistration } from '../../ipa-plugin/domain/registration.js';
import { adminContext, requireInstalled } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import type { Io } from '../io.js';

/** Where the client package expects the IPA CA, as named in the generated client.conf. */
export const CLIENT_CA_PATH = '/etc/ipa-hcc-ts/ipa-ca.crt';

/** Prints client.conf, or writes it with the IPA CA certificate into a directory. */
export async function clientConfigCommand(
  io: Io,
  flags: ConnectionFlags,
  outputDir: string | undefined,
): Promise<number> {
  const ctx = await adminContext(io, flags);
  try {
    await requireInstalled(ctx);
    if (!(await readRegistration(ctx.dir, ctx.layout))) {
      throw new CliError(
        ExitCode.NOT_CONFIGURED,
        'The domain is not registered.',
        'Run "ipa-hcc-ts register" first.',
      );
    }

    const daemon = await readDaemonConfig(ctx.settings.confDir);
    const servers = (await listServers(ctx.dir, ctx.layout)).filter((s) => s.enrollment);
    const text = clientConf(
      servers.map((s) => `https://${s.fqdn}:${daemon.port}`),
      ctx.env.domain,
    );
    if (outputDir === undefined) {
      io.out(text.trimEnd());
      return ExitCode.OK;
    }

    await mkdir(outputDir, { recursive: true, mode: 0o755 });
    await writeFile(join(outputDir, 'client.conf'), text, { mode: 0o644 });
    await copyFile(daemon.ipaCaFile, join(outputDir, 'ipa-ca.crt'));
    io.out(`Wrote ${join(outputDir, 'client.conf')} and ${join(outputDir, 'ipa-ca.crt')}.`);
    io.out(`Install them in the image as /etc/ipa-hcc-ts/client.conf and ${CLIENT_CA_PATH}.`);
    return ExitCode.OK;
  } finally {
    await ctx.dir.close();
  }
}

function clientConf(servers: string[], domain: string): string {
  return [
    '# ipa-hcc-ts-enroll settings for hosts of this domain (made by ipa-hcc-ts client-config).',
    '[client]',
    `servers = ${servers.join(', ')}`,
    `ca_cert = ${CLIENT_CA_PATH}`,
    `domain = ${domain}`,
    '',
  ].join('\n');
}

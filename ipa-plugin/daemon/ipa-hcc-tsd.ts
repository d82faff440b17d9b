#!/usr/bin/env node
// Entry point of the enrollment daemon `ipa-hcc-tsd`: runs until SIGTERM or SIGINT.
import { startDaemon } from './main.js';

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(
    'Usage: ipa-hcc-tsd\n\nServe the ipa-hcc-ts enrollment endpoint (HTTPS with mutual TLS).\n' +
      'Settings: [daemon] section of /etc/ipa-hcc-ts/ipa-hcc-ts.conf; see ipa-hcc-tsd(8).\n',
  );
  process.exit(0);
}

// The daemon faces the network: it never runs with root's powers (its unit sets User=).
if (process.getuid?.() === 0) {
  process.stderr.write('ipa-hcc-tsd: ERROR: refusing to run as root.\n');
  process.stderr.write('ipa-hcc-tsd: Start it as its system user: systemctl start ipa-hcc-tsd.\n');
  process.exit(1);
}

try {
  const daemon = await startDaemon();
  const stop = () => {
    void daemon.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (err) {
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  process.stderr.write(`ipa-hcc-tsd: ERROR: cannot start: ${message}\n`);
  process.stderr.write(
    'ipa-hcc-tsd: Check /etc/ipa-hcc-ts/ipa-hcc-ts.conf and run "ipa-hcc-ts install".\n',
  );
  process.exit(1);
}

// Vitest globalSetup: one directory server for the whole run (or an external directory).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import type { DirectoryInfo } from './directory.js';
import { deleteTracked } from './external.js';
import { note, since } from './log.js';
import type { RunState } from './run.js';
import { createRun, destroyRun, runInstance, runPaths, sweepStale } from './run.js';
import type { DomainSettings, ExternalSettings } from './settings.js';
import { DIRECTORY_MANAGER, domainSettings, externalSettings } from './settings.js';
import { instancePaths } from './slapd.js';
import { ensureTemplate, pruneTemplates } from './template.js';
import { runtimeCopyPath } from '../support/runtime.js';

type Teardown = () => Promise<void>;

function ds389Info(run: RunState, s: DomainSettings): DirectoryInfo {
  const p = runPaths(run.runDir);
  return {
    kind: '389ds',
    ldapUrl: `ldap://127.0.0.1:${run.ldapPort}`,
    ldapsUrl: `ldaps://127.0.0.1:${run.ldapsPort}`,
    ldapiSocket: instancePaths(runInstance(run)).socket,
    caCertFile: p.caCert,
    tlsServerName: 'localhost', // the self-signed server certificate is issued to localhost
    bindDn: DIRECTORY_MANAGER,
    bindPasswordFile: p.password,
    ...s,
    runDir: run.runDir,
  };
}

// Starts a clone of the cached template (built first if needed); teardown removes it all.
async function setup389ds(project: TestProject, s: DomainSettings): Promise<Teardown> {
  await sweepStale();
  const t0 = performance.now();
  const template = await ensureTemplate(s);
  note(`389-ds template ready in ${since(t0)} ms: ${template.dir}`);
  await pruneTemplates(template.dir);
  const t1 = performance.now();
  const { run, watchdog } = await createRun(template);
  note(`389-ds clone started in ${since(t1)} ms: ldap://127.0.0.1:${run.ldapPort} ${run.runDir}`);
  project.provide('directory', ds389Info(run, s));
  return async () => {
    const t2 = performance.now();
    await destroyRun(run.runDir);
    watchdog.kill();
    note(`389-ds stopped and removed in ${since(t2)} ms`);
  };
}

// Uses the directory at IPA_HCC_TEST_LDAP_URI; teardown deletes what tests tracked.
async function setupExternal(
  project: TestProject,
  s: DomainSettings,
  ext: ExternalSettings,
): Promise<Teardown> {
  const stateDir = await mkdtemp(path.join(tmpdir(), 'ipa-hcc-ts-external-'));
  const trackFile = path.join(stateDir, 'tracked.jsonl');
  await writeFile(trackFile, '');
  const info: DirectoryInfo = {
    kind: 'external',
    ldapUrl: ext.uri,
    ...(ext.caCertFile ? { caCertFile: ext.caCertFile } : {}),
    bindDn: ext.bindDn,
    bindPasswordFile: ext.bindPasswordFile,
    ...s,
    trackFile,
  };
  note(`using the external directory ${ext.uri} (${ext.bindDn})`);
  project.provide('directory', info);
  return async () => {
    try {
      await deleteTracked(info);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  };
}

// Vitest globalSetup entry point: provides 'directory', returns the teardown.
export default async function setup(project: TestProject): Promise<Teardown> {
  const s = domainSettings();
  const ext = externalSettings();
  const teardown = ext ? await setupExternal(project, s, ext) : await setup389ds(project, s);
  return async () => {
    // The readable copy of the project that test workers may have made for unprivileged users.
    await rm(runtimeCopyPath(process.pid), { recursive: true, force: true });
    await teardown();
  };
}

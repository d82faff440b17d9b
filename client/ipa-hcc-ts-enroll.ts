#!/usr/bin/env node
// Entry point of the installed `ipa-hcc-ts-enroll` command.
import { processIo } from './io.js';
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), processIo());

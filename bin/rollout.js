#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the CLI works without a build step.
require('tsx/cjs');
require('../src/client/cli.ts').runCli(process.argv);

#!/usr/bin/env node
// The `hookflow` command: loads the TypeScript sources through tsx, in this same process, so signals
// reach hookflow itself and it can stop Temporal and Postgres cleanly.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');

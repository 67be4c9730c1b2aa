#!/usr/bin/env node
// The Node.js peer of benches/benches/fanout.rs: R concurrent requests, each of S async
// steps, each step an `await` of a setImmediate promise (a turn of the event loop, as a
// yield to the scheduler is in Rust) followed by a read of the request's context value.
//
//   node benches/peers/fanout.js [--mode plain|als|hooks|als+hooks]
//                                [--requests 20000] [--steps 10] [--runs 10] [--warmup 3]
//
// Modes:
//   plain      the request id is captured by the request's closure;
//   als        each request runs in `AsyncLocalStorage.run({ id }, ..)` and every step
//              reads `getStore().id`;
//   hooks      as plain, with an `async_hooks.createHook` whose five callbacks (init,
//              before, after, destroy, promiseResolve) are empty, enabled;
//   als+hooks  both.
//
// One run starts every request, then awaits them all; the sum of the ids read is
// checked. After `warmup` unmeasured runs, `runs` runs are timed; one JSON object is
// printed: { node, mode, requests, steps, runs, median_ms, min_ms, samples_ms }.
'use strict';

const { AsyncLocalStorage, createHook } = require('node:async_hooks');
const { performance } = require('node:perf_hooks');

function parseArgs(argv) {
  const opts = { mode: 'plain', requests: 20000, steps: 10, runs: 10, warmup: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const value = argv[i + 1];
    if (!(key in opts) || value === undefined) {
      throw new Error(`unknown or incomplete option ${argv[i]}`);
    }
    opts[key] = key === 'mode' ? value : Number(value);
  }
  if (!['plain', 'als', 'hooks', 'als+hooks'].includes(opts.mode)) {
    throw new Error(`unknown mode ${opts.mode}`);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const useAls = opts.mode === 'als' || opts.mode === 'als+hooks';
const useHooks = opts.mode === 'hooks' || opts.mode === 'als+hooks';

if (useHooks) {
  createHook({
    init() {},
    before() {},
    after() {},
    destroy() {},
    promiseResolve() {},
  }).enable();
}

const storage = new AsyncLocalStorage();
const turn = () => new Promise((resolve) => setImmediate(resolve));

async function plainRequest(id) {
  let sum = 0;
  for (let s = 0; s < opts.steps; s++) {
    await turn();
    sum += id;
  }
  return sum;
}

async function alsSteps() {
  let sum = 0;
  for (let s = 0; s < opts.steps; s++) {
    await turn();
    sum += storage.getStore().id;
  }
  return sum;
}

const request = useAls ? (id) => storage.run({ id }, alsSteps) : plainRequest;

async function run() {
  const pending = new Array(opts.requests);
  for (let id = 0; id < opts.requests; id++) {
    pending[id] = request(id);
  }
  const sums = await Promise.all(pending);
  let sum = 0;
  for (const s of sums) sum += s;
  const expected = (opts.steps * opts.requests * (opts.requests - 1)) / 2;
  if (sum !== expected) {
    throw new Error(`a request read a wrong value: ${sum} != ${expected}`);
  }
}

async function main() {
  for (let i = 0; i < opts.warmup; i++) {
    await run();
  }
  const samples = [];
  for (let i = 0; i < opts.runs; i++) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  console.log(
    JSON.stringify({
      node: process.version,
      mode: opts.mode,
      requests: opts.requests,
      steps: opts.steps,
      runs: opts.runs,
      median_ms: median,
      min_ms: sorted[0],
      samples_ms: samples,
    }),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

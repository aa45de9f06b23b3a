#!/usr/bin/env node
// js_bench.mjs — single-thread throughput of the JavaScript tokenizers that
// llmkit's tokenizer is compared with: tiktoken (npm, WASM build of OpenAI's
// Rust core) and gpt-tokenizer (pure JS).
//
// Usage:
//   node bench/tokenize/js_bench.mjs [--encoding cl100k_base,o200k_base] [--min-time 1]
//        [--node-modules DIR] FILE...
//   e.g. node bench/tokenize/js_bench.mjs test/fixtures/tokenize/corpus/*.txt
// DIR defaults to test/tokenize/oracle/node_modules (run `npm ci` there).
//
// For each encoding, file and (library, op) it runs the op once to warm up
// (JIT, lazy tables, caches), then repeats it on the whole file until at
// least --min-time seconds have passed, and prints one JSON line:
//   {"lib":"tiktoken","op":"encode","encoding":"cl100k_base","file":"english.txt",
//    "mb_s":..,"tokens_s":..,"tokens":..,"iters":..,"bytes":..}
// mb_s is UTF-8 input bytes / 1e6 per second; tokens is the token count of the
// file. Ops:
//   tiktoken      encode          enc.encode(text)  (special-token check, the default call)
//   tiktoken      encode_ordinary enc.encode_ordinary(text)
//   gpt-tokenizer encode          encode(text)
//   gpt-tokenizer countTokens     countTokens(text)
//   gpt-tokenizer countTokens_cold clearMergeCache(); countTokens(text)
// gpt-tokenizer keeps a cache of encoded pieces, so repeated runs over the
// same file measure it warm, as a long-running process would see it;
// countTokens_cold empties that cache first, as text it has not seen would.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const opts = { encoding: 'cl100k_base,o200k_base', 'min-time': '1', 'node-modules': join(repoRoot, 'test/tokenize/oracle/node_modules') };
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) opts[args[i].slice(2)] = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error('usage: node bench/tokenize/js_bench.mjs [--encoding A,B] [--min-time S] [--node-modules DIR] FILE...');
  process.exit(2);
}
const minTime = Number(opts['min-time']);
const nodeModules = resolve(opts['node-modules']);
const require = createRequire(join(nodeModules, 'noop.js'));
const { get_encoding } = require('tiktoken');

function measure(fn) {
  fn(); // warm-up
  let iters = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    fn();
    iters++;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < minTime);
  return { iters, seconds: elapsed };
}

for (const encoding of opts.encoding.split(',')) {
  const tk = get_encoding(encoding);
  const gt = await import(pathToFileURL(join(nodeModules, `gpt-tokenizer/esm/encoding/${encoding}.js`)).href);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const bytes = Buffer.byteLength(text);
    const tokens = tk.encode_ordinary(text).length;
    const ops = [
      ['tiktoken', 'encode', () => tk.encode(text)],
      ['tiktoken', 'encode_ordinary', () => tk.encode_ordinary(text)],
      ['gpt-tokenizer', 'encode', () => gt.encode(text)],
      ['gpt-tokenizer', 'countTokens', () => gt.countTokens(text)],
      ['gpt-tokenizer', 'countTokens_cold', () => { gt.clearMergeCache(); return gt.countTokens(text); }],
    ];
    for (const [lib, op, fn] of ops) {
      const { iters, seconds } = measure(fn);
      const row = {
        lib, op, encoding, file: basename(file),
        mb_s: +((bytes * iters) / seconds / 1e6).toFixed(3),
        tokens_s: Math.round((tokens * iters) / seconds),
        tokens, iters, bytes,
      };
      console.log(JSON.stringify(row));
    }
  }
  tk.free();
}

#!/usr/bin/env node
// compare.mjs — llmkit's tokenizer next to tiktoken (npm, WASM) and
// gpt-tokenizer (npm, pure JS) on the same files, measured in one run.
// usage: node bench/tokenize/compare.mjs LLMKIT_BENCH_BINARY
// Runs the binary's tokenize/* benchmarks (Google Benchmark, JSON) and
// js_bench.mjs on the same corpus files, then prints MB/s and the ratios.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const corpus = resolve(here, '../../test/fixtures/tokenize/corpus');
const files = ['english', 'code_python', 'chinese'];
const encodings = ['cl100k_base', 'o200k_base'];
const bench = process.argv[2];
if (!bench) {
  console.error('usage: node bench/tokenize/compare.mjs LLMKIT_BENCH_BINARY');
  process.exit(2);
}

const jsonOut = join(mkdtempSync(join(tmpdir(), 'llmkit-bench-')), 'tokenize.json');
execFileSync(bench, ['--benchmark_filter=^tokenize/', '--benchmark_min_time=1',
  `--benchmark_out=${jsonOut}`, '--benchmark_out_format=json'], { stdio: ['ignore', 'inherit', 'inherit'] });
const cpp = JSON.parse(readFileSync(jsonOut, 'utf8'));
const ours = {};  // "op/encoding/file[/baseline]" -> MB/s
for (const b of cpp.benchmarks) ours[b.name.replace(/^tokenize\//, '').replace(/\/real_time$/, '')] = b.bytes_per_second / 1e6;

const js = {};  // "lib op/encoding/file" -> MB/s
const out = execFileSync('node', [join(here, 'js_bench.mjs'), '--encoding', encodings.join(','),
  ...files.map((f) => join(corpus, `${f}.txt`))], { maxBuffer: 1 << 26 }).toString();
for (const line of out.trim().split('\n')) {
  const r = JSON.parse(line);
  js[`${r.lib} ${r.op}/${r.encoding}/${r.file.replace(/\.txt$/, '')}`] = r.mb_s;
}

const f1 = (x) => (x === undefined ? '-' : x.toFixed(1));
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(1)}x` : '-');
console.log('\nMB/s, one thread unless noted; ratios are llmkit / other, same run.');
console.log(['encoding/file', 'llmkit count', 'llmkit encode', 'llmkit batch', 'scaling',
  'tiktoken encode', 'gpt-tok count warm', 'gpt-tok count cold',
  'vs tiktoken', 'vs gpt-tok warm', 'vs gpt-tok cold'].join(' | '));
for (const e of encodings) {
  for (const f of files) {
    const key = `${e}/${f}`;
    const count = ours[`count/${key}`], encode = ours[`encode/${key}`];
    const batch = ours[`batch/${key}`], base = ours[`batch/${key}/baseline`];
    const tk = js[`tiktoken encode/${key}`];
    const warm = js[`gpt-tokenizer countTokens/${key}`], cold = js[`gpt-tokenizer countTokens_cold/${key}`];
    console.log([key, f1(count), f1(encode), f1(batch), ratio(batch, base), f1(tk), f1(warm), f1(cold),
      ratio(encode, tk), ratio(count, warm), ratio(count, cold)].join(' | '));
  }
}

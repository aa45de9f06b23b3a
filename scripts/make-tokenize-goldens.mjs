#!/usr/bin/env node
// make-tokenize-goldens.mjs — token ids that tiktoken (npm, WASM build of
// OpenAI's Rust core) produces for the tokenizer test corpus.
//
// Usage: node scripts/make-tokenize-goldens.mjs [NODE_MODULES_DIR]
//   NODE_MODULES_DIR default: test/tokenize/oracle/node_modules
//   (run `npm ci` in test/tokenize/oracle first)
//
// Writes, for each encoding in ENCODINGS:
//   test/fixtures/tokenize/golden/<encoding>/<file>.ids
//       for each test/fixtures/tokenize/corpus/<file>.txt (all of them, or the
//       subset ENCODINGS lists): the file's text encoded
//       whole with encode_ordinary (special-token text such as "<|endoftext|>"
//       is ordinary text);
//   test/fixtures/tokenize/golden/<encoding>/special_all.ids
//       test/fixtures/tokenize/special.txt encoded with allowed_special="all".
//   test/fixtures/tokenize/golden/<encoding>/special_ordinary.ids
//       the same file encoded with encode_ordinary.
// Format: decimal ids separated by single spaces on one line, then "\n".
// An empty input gives a file holding just "\n".
import { readFileSync, writeFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeModules = resolve(process.argv[2] ?? join(repoRoot, 'test/tokenize/oracle/node_modules'));
const require = createRequire(join(nodeModules, 'noop.js'));
const { get_encoding } = require('tiktoken');
const tiktokenVersion = JSON.parse(readFileSync(join(nodeModules, 'tiktoken/package.json'), 'utf8')).version;

// cl100k_base and o200k_base get every corpus file. p50k_base and r50k_base
// (same pre-tokenizer; p50k adds runs-of-spaces tokens) get a subset, to keep
// the fixtures small: their non-Latin output is mostly single bytes.
const ENCODINGS = {
  cl100k_base: null,
  o200k_base: null,
  p50k_base: ['english.txt', 'code_c.txt', 'code_python.txt', 'synthetic_runs.txt', 'synthetic_unicode.txt'],
  r50k_base: ['english.txt', 'code_c.txt', 'code_python.txt', 'synthetic_runs.txt', 'synthetic_unicode.txt'],
};
const fixtures = join(repoRoot, 'test/fixtures/tokenize');
const corpusDir = join(fixtures, 'corpus');
const files = readdirSync(corpusDir).filter((f) => f.endsWith('.txt')).sort();
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const read = (p) => utf8.decode(readFileSync(p)); // keeps a leading U+FEFF, rejects bad UTF-8

console.log(`tiktoken ${tiktokenVersion}`);
for (const [name, subset] of Object.entries(ENCODINGS)) {
  const enc = get_encoding(name);
  const outDir = join(fixtures, 'golden', name);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  let total = 0;
  const chosen = subset ?? files;
  for (const f of chosen) {
    const text = read(join(corpusDir, f));
    const ids = enc.encode_ordinary(text);
    // Same thing through encode() with no special tokens allowed or disallowed.
    const viaEncode = enc.encode(text, [], []);
    if (ids.length !== viaEncode.length || ids.some((v, i) => v !== viaEncode[i])) {
      throw new Error(`${name}/${f}: encode_ordinary and encode(text, [], []) differ`);
    }
    const back = Buffer.from(enc.decode(ids));
    if (!back.equals(Buffer.from(text, 'utf8'))) throw new Error(`${name}/${f}: decode does not round-trip`);
    writeFileSync(join(outDir, f.replace(/\.txt$/, '.ids')), ids.join(' ') + '\n');
    total += ids.length;
  }
  const special = read(join(fixtures, 'special.txt'));
  writeFileSync(join(outDir, 'special_all.ids'), enc.encode(special, 'all').join(' ') + '\n');
  writeFileSync(join(outDir, 'special_ordinary.ids'), enc.encode_ordinary(special).join(' ') + '\n');
  enc.free();
  console.log(`${name}: ${chosen.length} files, ${total} tokens`);
}

#!/usr/bin/env node
// convert-tiktoken.mjs — rebuild OpenAI's .tiktoken rank files from the npm
// `tiktoken` package, and check them against the hashes that OpenAI's Python
// tiktoken pins (tiktoken_ext/openai_public.py, `expected_hash`).
//
// Usage: node scripts/convert-tiktoken.mjs [NODE_MODULES_DIR] [OUT_DIR]
//   NODE_MODULES_DIR  default: test/tokenize/oracle/node_modules
//   OUT_DIR           default: data
//
// Input:  <NODE_MODULES_DIR>/tiktoken/encoders/<name>.json with fields
//   pat_str, special_tokens, bpe_ranks. bpe_ranks holds one or more lines
//   "<ignored> <first-rank> <b64 token> <b64 token> ...", ranks consecutive
//   from <first-rank> within a line.
// Output: <OUT_DIR>/<name>.tiktoken  ("<b64 token> <rank>\n", ranks ascending)
//         <OUT_DIR>/<name>.json      ({"pat_str":..., "special_tokens":{...}})
// Exits non-zero if any hash differs.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeModules = resolve(process.argv[2] ?? join(repoRoot, 'test/tokenize/oracle/node_modules'));
const outDir = resolve(process.argv[3] ?? join(repoRoot, 'data'));

// sha256 of the files at https://openaipublic.blob.core.windows.net/encodings/<name>.tiktoken
const EXPECTED_SHA256 = {
  cl100k_base: '223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7',
  o200k_base: '446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d',
  p50k_base: '94b5ca7dff4d00767bc256fdd1b27e5b17361d7b8a5f968547f9f23eb70d2069',
  r50k_base: '306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930',
};

function convert(bpeRanks) {
  const out = [];
  let expectRank = null;
  for (const line of bpeRanks.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    let rank = Number.parseInt(fields[1], 10);
    if (!Number.isInteger(rank) || (expectRank !== null && rank < expectRank)) {
      throw new Error(`bad or non-ascending first rank ${fields[1]}`);
    }
    for (let i = 2; i < fields.length; i++, rank++) {
      const tok = fields[i];
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tok)) throw new Error(`bad base64 token at rank ${rank}`);
      out.push(`${tok} ${rank}\n`);
    }
    expectRank = rank;
  }
  return out.join('');
}

mkdirSync(outDir, { recursive: true });
let failed = false;
for (const [name, expected] of Object.entries(EXPECTED_SHA256)) {
  const src = join(nodeModules, 'tiktoken/encoders', `${name}.json`);
  const enc = JSON.parse(readFileSync(src, 'utf8'));
  const text = convert(enc.bpe_ranks);
  const sha = createHash('sha256').update(text).digest('hex');
  writeFileSync(join(outDir, `${name}.tiktoken`), text);
  writeFileSync(
    join(outDir, `${name}.json`),
    JSON.stringify({ pat_str: enc.pat_str, special_tokens: enc.special_tokens }, null, 2) + '\n',
  );
  const ok = sha === expected;
  failed ||= !ok;
  const lines = text.length ? text.split('\n').length - 1 : 0;
  console.log(`${name}: ${lines} tokens, sha256 ${sha} ${ok ? 'OK' : `MISMATCH (expected ${expected})`}`);
}
process.exit(failed ? 1 : 0);

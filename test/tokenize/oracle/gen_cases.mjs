#!/usr/bin/env node
// gen_cases.mjs — differential fuzz cases for llmkit's tokenizer: random
// strings plus the token ids that tiktoken (npm 1.0.22, the WASM build of
// OpenAI's Rust core) gives them with encode_ordinary.
//
// Usage:
//   node gen_cases.mjs --encoding NAME --count N --seed S --out FILE [--corpus DIR]
//     NAME    cl100k_base | o200k_base | p50k_base | r50k_base (any name tiktoken's
//             get_encoding knows)
//     N       number of cases
//     S       seed, an integer 0 .. 2^53-1
//     FILE    output path
//     DIR     corpus to slice and mutate; default ../../fixtures/tokenize/corpus
//             next to this script (every *.txt file in it, sorted by name)
//   Run `npm ci` in this folder first.
//
// Output format (binary, no header, no padding; u32le = unsigned 32-bit
// little-endian). The file is a sequence of N cases, each:
//     u32le text_len             length of the text in bytes
//     text_len bytes             the text, valid UTF-8 (never a surrogate code point)
//     u32le n_ids                number of token ids
//     n_ids x u32le              the ids tiktoken encode_ordinary returns
// The file ends right after the last case.
//
// Determinism: the texts depend only on S and the corpus bytes (not on the
// encoding, the Node version or its Unicode data: every character class below
// is a fixed table), so one seed gives the same texts for every encoding.
//
// What the texts are (lengths 0 to about 2000 bytes; case kind picked at random):
//  - random code points from weighted classes: ASCII letters/digits/punctuation/
//    space/\r/\n, apostrophe + s|t|re|ve|m|ll|d in random case (and U+017F for s),
//    letters of many scripts (cased, uncased, titlecase, modifier letters),
//    combining marks Mn/Mc/Me, Nd/Nl/No digits, Unicode whitespace (U+00A0,
//    U+0085, U+000B, U+000C, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F,
//    U+205F, U+3000), zero-width and bidi format characters, emoji with ZWJ,
//    skin tones, flags, keycaps and tag sequences, private use, noncharacters,
//    unassigned code points, and letters/digits added in Unicode 15.0, 15.1,
//    16.0 and 17.0, plus uniform picks over all planes;
//  - words, contractions, numbers, punctuation and whitespace runs glued together;
//  - corpus slices with code points inserted, deleted, replaced or duplicated,
//    case flipped, and other slices spliced in;
//  - long runs (spaces, newlines, tabs, digits, one letter, punctuation, emoji, CJK).
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// ------------------------------------------------------------- args ----
function parseArgs(argv) {
  const opts = { corpus: resolve(here, '../../fixtures/tokenize/corpus') };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const val = argv[i + 1];
    if (!key.startsWith('--') || val === undefined) usage(`bad argument ${key}`);
    opts[key.slice(2)] = val;
    i++;
  }
  for (const k of ['encoding', 'count', 'seed', 'out']) if (opts[k] === undefined) usage(`missing --${k}`);
  opts.count = Number(opts.count);
  opts.seed = Number(opts.seed);
  if (!Number.isSafeInteger(opts.count) || opts.count < 0) usage('--count must be a non-negative integer');
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0) usage('--seed must be an integer 0 .. 2^53-1');
  return opts;
}
function usage(msg) {
  console.error(`gen_cases: ${msg}\nusage: node gen_cases.mjs --encoding NAME --count N --seed S --out FILE [--corpus DIR]`);
  process.exit(2);
}

// ------------------------------------------------------------- PRNG ----
// sfc32 seeded through splitmix32 from both halves of the seed.
function makeRng(seed) {
  let s = (seed % 4294967296) >>> 0;
  let hi = Math.floor(seed / 4294967296) >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = (s ^ hi) >>> 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  for (let i = 0; i < 12; i++) next();
  function next() {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  }
  const f = () => next() / 4294967296;
  return {
    int: (n) => Math.floor(f() * n), // [0, n)
    range: (lo, hi2) => lo + Math.floor(f() * (hi2 - lo + 1)), // [lo, hi2]
    pick: (arr) => arr[Math.floor(f() * arr.length)],
    chance: (p) => f() < p,
    // Small values more likely: lo + floor((hi-lo+1) * u^3).
    skewed: (lo, hi2) => lo + Math.floor((hi2 - lo + 1) * f() ** 3),
  };
}

// ---------------------------------------------------------- classes ----
// Each class: list of inclusive [lo, hi] code point ranges, picked with
// probability proportional to range size unless a range is listed twice.
const R = (lo, hi = lo) => [lo, hi];
const CLASSES = {
  asciiLetter: [R(0x41, 0x5a), R(0x61, 0x7a), R(0x61, 0x7a)],
  asciiDigit: [R(0x30, 0x39)],
  asciiPunct: [R(0x21, 0x2f), R(0x3a, 0x40), R(0x5b, 0x60), R(0x7b, 0x7e), R(0x27), R(0x27)],
  space: [R(0x20)],
  crlf: [R(0x0d), R(0x0a), R(0x0a)],
  letters: [
    R(0xc0, 0xff), R(0x100, 0x17f), R(0x180, 0x24f), R(0x250, 0x2af), // Latin
    R(0x1c4, 0x1cc), R(0x1f1, 0x1f3), R(0x1f88, 0x1faf), // incl. titlecase Lt
    R(0x2b0, 0x2c1), R(0x2c6, 0x2d1), R(0x3005), R(0xa015), R(0xff70), // Lm
    R(0x391, 0x3a9), R(0x3b1, 0x3c9), R(0x3c2), R(0x1f00, 0x1f15), // Greek
    R(0x400, 0x45f), R(0x460, 0x481), // Cyrillic
    R(0x531, 0x556), R(0x561, 0x587), // Armenian
    R(0x5d0, 0x5ea), R(0x620, 0x64a), R(0x671, 0x6d3), R(0x710, 0x72f), R(0x780, 0x7a5), // RTL
    R(0x904, 0x939), R(0x985, 0x9b9), R(0xa05, 0xa39), R(0xb85, 0xbb9), R(0xc05, 0xc39), R(0xd05, 0xd3a), // Indic
    R(0xe01, 0xe30), R(0xe81, 0xeb0), R(0xf40, 0xf6c), R(0x1000, 0x102a), // SE Asia, Tibetan
    R(0x10a0, 0x10c5), R(0x10d0, 0x10fa), R(0x1c90, 0x1cba), // Georgian (Mkhedruli, Mtavruli)
    R(0x1100, 0x11ff), R(0xac00, 0xd7a3), R(0x3131, 0x318e), // Hangul
    R(0x3041, 0x3096), R(0x30a1, 0x30fa), R(0xff66, 0xff9d), // kana
    R(0x4e00, 0x9fff), R(0x3400, 0x4dbf), R(0xf900, 0xfa6d), R(0x20000, 0x2a6df), // CJK
    R(0x1200, 0x135a), R(0x13a0, 0x13f5), R(0xab70, 0xabbf), R(0x1820, 0x1878), // Ethiopic, Cherokee, Mongolian
    R(0x10400, 0x1044f), R(0x1e900, 0x1e943), R(0x10c80, 0x10cb2), R(0x10cc0, 0x10cf2), // cased astral scripts
    R(0x1d400, 0x1d6a5), R(0xff21, 0xff3a), R(0xff41, 0xff5a), // math alphanumerics, fullwidth
    R(0x212a), R(0x212b), R(0x2126), R(0x17f), R(0x130), R(0x131), R(0xdf), R(0x1e9e), R(0xfb00, 0xfb06),
  ],
  marks: [
    R(0x300, 0x36f), R(0x483, 0x487), R(0x488, 0x489), R(0x591, 0x5bd), R(0x64b, 0x65f), R(0x670),
    R(0x900, 0x903), R(0x93a, 0x94f), R(0x981, 0x983), R(0x9be, 0x9cd), R(0xe31), R(0xe34, 0xe3a), R(0xe47, 0xe4e),
    R(0x1ab0, 0x1ace), R(0x1dc0, 0x1dff), R(0x20d0, 0x20f0), R(0x302a, 0x302f), R(0x3099, 0x309a),
    R(0xfe00, 0xfe0f), R(0xfe20, 0xfe2f), R(0x1d165, 0x1d169), R(0x1d16d, 0x1d172), R(0xe0100, 0xe01ef),
  ],
  digits: [
    R(0x660, 0x669), R(0x6f0, 0x6f9), R(0x7c0, 0x7c9), R(0x966, 0x96f), R(0x9e6, 0x9ef), R(0xe50, 0xe59),
    R(0xff10, 0xff19), R(0x1d7ce, 0x1d7ff), R(0x104a0, 0x104a9), R(0x1e950, 0x1e959), // Nd
    R(0x16ee, 0x16f0), R(0x2160, 0x2182), R(0x2185, 0x2188), R(0x3007), R(0x3021, 0x3029), R(0x10140, 0x10174), // Nl
    R(0xb2, 0xb3), R(0xb9), R(0xbc, 0xbe), R(0x2070), R(0x2074, 0x2079), R(0x2080, 0x2089), R(0x2150, 0x215f),
    R(0x2460, 0x249b), R(0x24ea, 0x24ff), R(0x2776, 0x2793), R(0x3251, 0x325f), R(0x1f100, 0x1f10c), // No
  ],
  whitespace: [
    R(0x09), R(0x0b), R(0x0c), R(0x85), R(0xa0), R(0xa0), R(0x1680), R(0x2000, 0x200a), R(0x2028), R(0x2029),
    R(0x202f), R(0x205f), R(0x3000), R(0x3000), R(0x0d), R(0x0a),
  ],
  format: [
    R(0x200b), R(0x200c), R(0x200d), R(0x200e), R(0x200f), R(0x202a, 0x202e), R(0x2060, 0x2064),
    R(0x2066, 0x2069), R(0xfeff), R(0xad), R(0x61c), R(0x180e), R(0x34f), R(0xe0001), R(0xe0020, 0xe007f),
  ],
  controls: [R(0x00, 0x08), R(0x0e, 0x1f), R(0x7f, 0x9f)],
  symbols: [
    R(0xa1, 0xbf), R(0xd7), R(0xf7), R(0x2010, 0x2027), R(0x2030, 0x205e), R(0x20a0, 0x20c0), R(0x2190, 0x22ff),
    R(0x2500, 0x25ff), R(0x3001, 0x3003), R(0x3008, 0x3011), R(0xff01, 0xff0f), R(0xfe50, 0xfe6b),
  ],
  emoji: [
    R(0x1f300, 0x1f5ff), R(0x1f600, 0x1f64f), R(0x1f680, 0x1f6ff), R(0x1f900, 0x1f9ff), R(0x1fa70, 0x1faff),
    R(0x2600, 0x26ff), R(0x2700, 0x27bf),
  ],
  privateUse: [R(0xe000, 0xf8ff), R(0xf0000, 0xffffd), R(0x100000, 0x10fffd)],
  nonchar: [R(0xfdd0, 0xfdef), R(0xfffe, 0xffff), R(0x1fffe, 0x1ffff), R(0x10fffe, 0x10ffff)],
  unassigned: [
    R(0x378, 0x379), R(0x380, 0x383), R(0x38b), R(0x38d), R(0x3a2), R(0x530), R(0x557, 0x558), R(0x5c8, 0x5cf),
    R(0x2fe0, 0x2fef), R(0xe0000), R(0xe0002, 0xe001f), R(0x40000, 0xdffff),
  ],
  recent: [
    // Unicode 15.0
    R(0x11f04, 0x11f10), R(0x11f12, 0x11f33), R(0x1e4d0, 0x1e4eb), R(0x1e4f0, 0x1e4f9), R(0x31350, 0x323af),
    R(0x1e030, 0x1e06d), R(0x1f6dc), R(0x1fa75, 0x1fa77),
    // Unicode 15.1
    R(0x2ebf0, 0x2ee5d), R(0x2ffc, 0x2fff), R(0x31ef),
    // Unicode 16.0
    R(0x10d4a, 0x10d65), R(0x10d70, 0x10d85), R(0x10d40, 0x10d49), R(0x105c0, 0x105f3), R(0x16d43, 0x16d6a),
    R(0x16d70, 0x16d79), R(0x11bc0, 0x11be0), R(0x11bf0, 0x11bf9), R(0x16100, 0x1611d), R(0x1e5d0, 0x1e5ed),
    R(0xa7cb, 0xa7cd), R(0xa7da, 0xa7dc), R(0x13460, 0x143fa), R(0x1cc00, 0x1ccf9), R(0x11380, 0x11389),
    // Unicode 17.0
    R(0x10940, 0x10959), R(0x1e6c0, 0x1e6de), R(0x323b0, 0x3347f), R(0x16ea0, 0x16eb8),
  ],
  anyPlane: [R(0x0, 0xd7ff), R(0xe000, 0x10ffff)],
};
const SKIN = [0x1f3fb, 0x1f3fc, 0x1f3fd, 0x1f3fe, 0x1f3ff];
const CONTRACTIONS = ['s', 't', 're', 've', 'm', 'll', 'd'];

function pickRange(rng, ranges) { return rng.pick(ranges); }
function cpFrom(rng, cls) {
  const [lo, hi] = pickRange(rng, CLASSES[cls]);
  return String.fromCodePoint(rng.range(lo, hi));
}

function contraction(rng) {
  const suf = rng.pick(CONTRACTIONS);
  let out = rng.pick(["'", "'", "'", "'", '\u2019']);
  for (const ch of suf) {
    if (ch === 's' && rng.chance(0.15)) out += '\u017f';
    else out += rng.chance(0.4) ? ch.toUpperCase() : ch;
  }
  return out;
}

function emojiSeq(rng) {
  const base = () => cpFrom(rng, 'emoji');
  switch (rng.int(6)) {
    case 0: return base();
    case 1: return base() + String.fromCodePoint(rng.pick(SKIN));
    case 2: {
      const n = rng.range(2, 5);
      const parts = [];
      for (let i = 0; i < n; i++) parts.push(base() + (rng.chance(0.3) ? String.fromCodePoint(rng.pick(SKIN)) : '') + (rng.chance(0.3) ? '\ufe0f' : ''));
      return parts.join('\u200d');
    }
    case 3: return String.fromCodePoint(0x1f1e6 + rng.int(26), 0x1f1e6 + rng.int(26));
    case 4: return `${rng.pick('0123456789#*')}\ufe0f\u20e3`;
    default: {
      let s = '\u{1f3f4}';
      const n = rng.range(1, 6);
      for (let i = 0; i < n; i++) s += String.fromCodePoint(0xe0061 + rng.int(26));
      return s + '\u{e007f}';
    }
  }
}

// Weighted pieces for random strings.
const PIECES = [
  [14, (rng) => cpFrom(rng, 'asciiLetter')],
  [5, (rng) => cpFrom(rng, 'asciiDigit')],
  [5, (rng) => cpFrom(rng, 'asciiPunct')],
  [9, () => ' '],
  [4, (rng) => cpFrom(rng, 'crlf')],
  [6, contraction],
  [12, (rng) => cpFrom(rng, 'letters')],
  [6, (rng) => cpFrom(rng, 'marks')],
  [4, (rng) => cpFrom(rng, 'digits')],
  [5, (rng) => cpFrom(rng, 'whitespace')],
  [3, (rng) => cpFrom(rng, 'format')],
  [1, (rng) => cpFrom(rng, 'controls')],
  [3, (rng) => cpFrom(rng, 'symbols')],
  [5, emojiSeq],
  [1, (rng) => cpFrom(rng, 'privateUse')],
  [1, (rng) => cpFrom(rng, 'nonchar')],
  [2, (rng) => cpFrom(rng, 'unassigned')],
  [4, (rng) => cpFrom(rng, 'recent')],
  [3, (rng) => cpFrom(rng, 'anyPlane')],
  // a short run of one piece
  [3, (rng) => (rng.chance(0.5) ? ' ' : rng.chance(0.5) ? cpFrom(rng, 'asciiDigit') : cpFrom(rng, 'whitespace')).repeat(rng.range(2, 40))],
];
const PIECE_TOTAL = PIECES.reduce((s, [w]) => s + w, 0);
function piece(rng) {
  let r = rng.int(PIECE_TOTAL);
  for (const [w, f] of PIECES) {
    if (r < w) return f(rng);
    r -= w;
  }
  throw new Error('unreachable');
}

function targetBytes(rng) {
  const r = rng.int(100);
  if (r < 2) return 0;
  if (r < 30) return rng.range(1, 24);
  if (r < 80) return rng.range(25, 400);
  return rng.range(401, 2000);
}

function randomString(rng, limit) {
  let s = '';
  let bytes = 0;
  // Mostly mixtures; sometimes a narrower palette so runs of one class form.
  const narrow = rng.chance(0.3) ? [piece, piece, piece].map(() => PIECES[rng.int(PIECES.length)][1]) : null;
  while (bytes < limit) {
    const p = narrow ? rng.pick(narrow)(rng) : piece(rng);
    s += p;
    bytes += Buffer.byteLength(p);
  }
  return s;
}

const WORDS = ['the', 'The', 'THE', 'hello', 'World', 'x', 'I', 'a', 'naïve', 'Straße', 'ΣΊΣΥΦΟΣ', 'σοφός', 'мир', 'שלום',
  'مرحبا', 'नमस्ते', 'こんにちは', '漢字', '한국어', 'ไทย', 'ok', 'camelCase', 'snake_case', 'URL', 'e\u0301', '\u212aelvin'];
const NUMBERS = ['0', '1', '12', '123', '1234', '12345', '1234567', '3.14', '1,000', '٣٤٥', '१२३', '１２３', '²³', 'Ⅻ', '½'];
const GLUE = [' ', '', '', '  ', '\n', '\r\n', '\t', '\u00a0', '\u3000', ' \n', '\n\n', '\u200d', '\u2028'];

function tokenish(rng, limit) {
  let s = '';
  while (Buffer.byteLength(s) < limit) {
    const r = rng.int(10);
    if (r < 3) s += rng.pick(WORDS);
    else if (r < 5) s += rng.pick(WORDS) + contraction(rng);
    else if (r < 6) s += rng.pick(NUMBERS);
    else if (r < 7) s += emojiSeq(rng);
    else if (r < 8) s += cpFrom(rng, rng.pick(['asciiPunct', 'symbols', 'marks', 'format', 'recent']));
    else s += piece(rng);
    s += rng.pick(GLUE);
  }
  return s;
}

function longRun(rng) {
  const unit = rng.pick([
    ' ', ' ', '\n', '\r\n', '\t', ' \t', '\u00a0', '\u3000', '0', '7', '9', '٣', 'a', 'Z', 'é', 'e\u0301', '漢', '한',
    '!', '-', '=', '/', '.', "'s", "'", '😀', '👍🏽', '\u200b', '\u0301', 'ab', '12', '\r', ' \n',
  ]);
  const n = Math.max(1, Math.floor(rng.range(100, 2000) / Buffer.byteLength(unit)));
  const pre = rng.chance(0.5) ? piece(rng) : '';
  const post = rng.chance(0.5) ? piece(rng) : '';
  return pre + unit.repeat(n) + post;
}

function corpusMutation(rng, corpus) {
  const file = rng.pick(corpus);
  const len = rng.skewed(1, 700); // code points
  const start = rng.int(Math.max(1, file.length - len));
  let chars = file.slice(start, start + len);
  const muts = rng.range(0, 8);
  for (let m = 0; m < muts; m++) {
    const at = rng.int(chars.length + 1);
    switch (rng.int(7)) {
      case 0: chars.splice(at, 0, piece(rng)); break; // insert
      case 1: chars.splice(at, rng.range(1, 4)); break; // delete
      case 2: if (chars.length) chars[Math.min(at, chars.length - 1)] = piece(rng); break; // replace
      case 3: chars.splice(at, 0, ...chars.slice(at, at + rng.range(1, 30))); break; // duplicate
      case 4: chars.splice(at, 0, contraction(rng)); break;
      case 5: {
        const other = rng.pick(corpus);
        const o = rng.int(Math.max(1, other.length - 50));
        chars.splice(at, 0, ...other.slice(o, o + rng.range(1, 50)));
        break;
      }
      default: {
        const end = Math.min(chars.length, at + rng.range(1, 40));
        for (let i = at; i < end; i++) chars[i] = rng.chance(0.5) ? chars[i].toUpperCase() : chars[i].toLowerCase();
      }
    }
  }
  return chars.join('');
}

// Cut to at most `max` bytes at a code point boundary.
function capBytes(s, max) {
  if (Buffer.byteLength(s) <= max) return s;
  const b = Buffer.from(s, 'utf8');
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

function makeCase(rng, corpus) {
  const r = rng.int(100);
  let s;
  if (r < 35) s = randomString(rng, targetBytes(rng));
  else if (r < 55) s = tokenish(rng, targetBytes(rng));
  else if (r < 88) s = corpusMutation(rng, corpus);
  else s = longRun(rng);
  return capBytes(s, 2200);
}

// ------------------------------------------------------------- main ----
const opts = parseArgs(process.argv.slice(2));
const { get_encoding } = require('tiktoken');
const enc = get_encoding(opts.encoding);
const corpusFiles = readdirSync(opts.corpus).filter((f) => f.endsWith('.txt')).sort();
if (corpusFiles.length === 0) usage(`no *.txt files in ${opts.corpus}`);
const corpus = corpusFiles.map((f) => Array.from(readFileSync(join(opts.corpus, f), 'utf8')));

const rng = makeRng(opts.seed);
const chunks = [];
let totalBytes = 0;
const u32 = (v) => { const b = Buffer.allocUnsafe(4); b.writeUInt32LE(v); return b; };
for (let i = 0; i < opts.count; i++) {
  const text = makeCase(rng, corpus);
  if (/[\ud800-\udfff]/u.test(text)) throw new Error('generated a lone surrogate');
  const bytes = Buffer.from(text, 'utf8');
  const ids = enc.encode_ordinary(text);
  const idBytes = Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength); // Uint32Array, host order
  chunks.push(u32(bytes.length), bytes, u32(ids.length), Buffer.from(idBytes));
  totalBytes += bytes.length;
}
if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) throw new Error('big-endian host: ids need byte swapping');
enc.free();
writeFileSync(opts.out, Buffer.concat(chunks));
console.error(`gen_cases: ${opts.count} cases, ${totalBytes} text bytes, encoding ${opts.encoding}, seed ${opts.seed} -> ${opts.out}`);

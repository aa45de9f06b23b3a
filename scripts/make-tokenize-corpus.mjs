#!/usr/bin/env node
// make-tokenize-corpus.mjs — builds test/fixtures/tokenize/corpus/*.txt, the
// text that the tokenizer goldens (scripts/make-tokenize-goldens.mjs) encode.
//
// Usage: node scripts/make-tokenize-corpus.mjs [OUT_DIR]
//   OUT_DIR default: test/fixtures/tokenize/corpus
//
// Two kinds of file:
//  - real text, copied from files that Debian 12 (bookworm) packages install
//    (license texts, fortunes, C headers, Python stdlib, iso-codes JSON,
//    Japanese man pages, Chinese fortunes, gettext catalogs, hunspell word
//    lists). test/fixtures/tokenize/SOURCES.md names every package. Install
//    them first:
//      apt-get install --no-install-recommends manpages-ja fortunes-zh \
//        fortunes-min hunspell-ar hunspell-hi hunspell-ko iso-codes \
//        libc6-dev linux-libc-dev libpython3.11-minimal libpython3.11-stdlib \
//        base-files bash apt libgtk2.0-common libglib2.0-data xkb-data \
//        shared-mime-info
//    The output depends on the installed package versions (listed in
//    SOURCES.md); the committed corpus is the reference, this script is how
//    it was made.
//  - synthetic text (synthetic_unicode.txt, synthetic_runs.txt, mixed.txt),
//    generated from a fixed seed with the PRNG below: same bytes on every run.
//
// Every file is valid UTF-8, has no byte order mark at the start, and is cut
// at a line boundary to stay under its size limit (all under 400 KB).
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(repoRoot, 'test/fixtures/tokenize/corpus'));
const KB = 1000;

// ---------------------------------------------------------------- PRNG ----
// sfc32 seeded through splitmix32: small, fast, identical on every platform.
function makeRng(seed) {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split(), b = split(), c = split(), d = split();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  const rng = {
    u32: next,
    int: (n) => Math.floor((next() / 4294967296) * n), // [0, n)
    range: (lo, hi) => lo + Math.floor((next() / 4294967296) * (hi - lo + 1)), // [lo, hi]
    pick: (arr) => arr[Math.floor((next() / 4294967296) * arr.length)],
    chance: (p) => next() / 4294967296 < p,
  };
  return rng;
}

// ----------------------------------------------------------- helpers ----
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readText(path) {
  let buf = readFileSync(path);
  if (path.endsWith('.gz')) buf = gunzipSync(buf);
  return utf8.decode(buf);
}

// Strings of a GNU gettext .mo catalog: [msgid, msgstr] pairs in file order,
// header entry skipped, plural forms joined with newlines.
function readMo(path) {
  const buf = readFileSync(path);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0x950412de;
  if (!le && magic !== 0xde120495) throw new Error(`${path}: not a .mo file`);
  const u32 = (off) => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off));
  const n = u32(8), origTab = u32(12), transTab = u32(16);
  const str = (tab, i) => {
    const len = u32(tab + 8 * i), off = u32(tab + 8 * i + 4);
    return utf8.decode(buf.subarray(off, off + len)).replaceAll('\0', '\n');
  };
  const out = [];
  for (let i = 0; i < n; i++) {
    const id = str(origTab, i);
    if (id === '') continue;
    out.push([id, str(transTab, i)]);
  }
  return out;
}

// Words of a hunspell .dic file: the count line, flags and morphology dropped.
function readDicWords(path) {
  const words = [];
  for (const line of readText(path).split('\n')) {
    if (/^\d+(\s|$)/.test(line) || line.startsWith('::::') || line.startsWith('#')) continue;
    const w = line.split(/[\/\t ]/)[0].trim();
    if (w && !w.endsWith('.dic')) words.push(w);
  }
  return words;
}

// Words joined into lines of about 70 characters, so the list reads like text.
function wordLines(words) {
  const lines = [];
  let cur = '';
  for (const w of words) {
    if (cur.length + w.length + 1 > 70) { lines.push(cur); cur = ''; }
    cur = cur ? `${cur} ${w}` : w;
  }
  if (cur) lines.push(cur);
  return lines.join('\n') + '\n';
}

// The longest prefix of `text` that ends at a newline and has at most
// `limit` UTF-8 bytes.
function cutAtLine(text, limit) {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let end = bytes.lastIndexOf(0x0a, limit - 1);
  if (end < 0) throw new Error('no newline before limit');
  return utf8.decode(bytes.subarray(0, end + 1));
}

function mustExist(paths) {
  const missing = paths.filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`missing Debian files (install the packages named at the top of this script):\n  ${missing.join('\n  ')}`);
  }
  return paths;
}

const LIC = '/usr/share/common-licenses';
const FORT = '/usr/share/games/fortunes';
const LOC = '/usr/share/locale';


// ---------------------------------------------------------- real text ----
// Each entry's parts are [label, text] pairs, joined with "\n" and then cut
// to the size limit; the script prints which parts made it in.
const files = (paths) => mustExist(paths).map((p) => [p, readText(p)]);
const dic = (path, n) => [[`${path} (first ${n} words)`, wordLines(readDicWords(mustExist([path])[0]).slice(0, n))]];
const mo = (lang, domains) => domains.map((d) => {
  const path = `${LOC}/${lang}/LC_MESSAGES/${d}.mo`;
  mustExist([path]);
  return [`${path} (translations)`, readMo(path).map(([, str]) => `${str}\n`).join('\n')];
});
const REAL = [
  {
    name: 'english.txt',
    limit: 200 * KB,
    parts: () => files([
      `${FORT}/fortunes`, `${FORT}/literature`, `${FORT}/riddles`,
      `${LIC}/Apache-2.0`, `${LIC}/MPL-2.0`, `${LIC}/GPL-3`, `${LIC}/LGPL-2.1`,
      `${LIC}/Artistic`, `${LIC}/BSD`, `${LIC}/CC0-1.0`,
    ]),
  },
  {
    name: 'code_c.txt',
    limit: 150 * KB,
    parts: () => files([
      '/usr/include/stdio.h', '/usr/include/string.h', '/usr/include/ctype.h', '/usr/include/signal.h',
      '/usr/include/regex.h', '/usr/include/linux/input-event-codes.h', '/usr/include/elf.h',
    ]),
  },
  {
    name: 'code_python.txt',
    limit: 150 * KB,
    parts: () => files([
      '/usr/lib/python3.11/textwrap.py', '/usr/lib/python3.11/json/__init__.py',
      '/usr/lib/python3.11/json/decoder.py', '/usr/lib/python3.11/json/encoder.py',
      '/usr/lib/python3.11/string.py', '/usr/lib/python3.11/shlex.py',
      '/usr/lib/python3.11/base64.py', '/usr/lib/python3.11/fractions.py',
      '/usr/lib/python3.11/argparse.py',
    ]),
  },
  {
    name: 'code_json.txt',
    limit: 120 * KB,
    parts: () => files([
      '/usr/share/iso-codes/json/iso_3166-1.json', '/usr/share/iso-codes/json/iso_15924.json',
      '/usr/share/iso-codes/json/iso_4217.json', '/usr/share/iso-codes/json/iso_3166-2.json',
    ]),
  },
  {
    name: 'chinese.txt',
    limit: 160 * KB,
    parts: () => files([`${FORT}/tang300`, `${FORT}/song100`, `${FORT}/chinese`]),
  },
  {
    name: 'japanese.txt',
    limit: 160 * KB,
    parts: () => files(
      ['ls', 'cp', 'mv', 'rm', 'cat', 'sort', 'uniq', 'head', 'tail', 'date', 'find']
        .map((n) => `/usr/share/man/ja/man1/${n}.1.gz`),
    ),
  },
  {
    name: 'korean.txt',
    limit: 130 * KB,
    parts: () => [...dic('/usr/share/hunspell/ko.dic', 1500), ...mo('ko', ['bash'])],
  },
  {
    name: 'arabic.txt',
    limit: 130 * KB,
    parts: () => [
      ...dic('/usr/share/hunspell/ar.dic', 1500),
      ...mo('ar', ['apt', 'glib20', 'gtk20', 'xkeyboard-config', 'shared-mime-info']),
    ],
  },
  {
    name: 'hindi.txt',
    limit: 130 * KB,
    parts: () => [
      ...dic('/usr/share/hunspell/hi_IN.dic', 1500),
      ...mo('hi', ['glib20', 'gtk20']),
    ],
  },
];

// ---------------------------------------------------- synthetic text ----
const cp = (...codes) => String.fromCodePoint(...codes);
const ZWJ = cp(0x200d);

const CONTRACTION_WORDS = [
  ["I", "m"], ["you", "ll"], ["don", "t"], ["they", "re"], ["it", "s"], ["we", "ve"],
  ["she", "d"], ["can", "t"], ["won", "t"], ["he", "ll"], ["who", "s"], ["that", "d"],
  ["y", "all"], ["o", "clock"], ["rock", "n"], ["ma", "am"], ["isn", "t"], ["I", "ve"],
  ["Kelvin", "s"], ["naïve", "s"], ["Émile", "s"], ["ÆON", "s"], ["straße", "s"],
  ["Σίσυφος", "s"], ["Москва", "s"], ["東京", "s"], ["user", "re"], ["x", "ll"],
];
const APOSTROPHES = ["'", "'", "'", "'", '\u2019', '\u02bc', '\uff07', '`'];
const SUFFIX_VARIANTS = {
  s: ['s', 'S', '\u017f'], t: ['t', 'T'], re: ['re', 'RE', 'Re', 'rE'], ve: ['ve', 'VE', 'Ve', 'vE'],
  m: ['m', 'M'], ll: ['ll', 'LL', 'Ll', 'lL'], d: ['d', 'D'],
};

function randomCase(rng, w) {
  switch (rng.int(4)) {
    case 0: return w;
    case 1: return w.toUpperCase();
    case 2: return w.charAt(0).toUpperCase() + w.slice(1);
    default: return [...w].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  }
}

function contraction(rng) {
  const [w, suf] = rng.pick(CONTRACTION_WORDS);
  const sufs = SUFFIX_VARIANTS[suf];
  const s = sufs ? rng.pick(sufs) : randomCase(rng, suf);
  const k = (w === 'Kelvin' && rng.chance(0.5)) ? '\u212Aelvin' : randomCase(rng, w);
  return `${k}${rng.pick(APOSTROPHES)}${s}`;
}

const EMOJI_BASE = [
  0x1f600, 0x1f602, 0x1f60d, 0x1f914, 0x1f44d, 0x1f44b, 0x1f64f, 0x1f4aa, 0x1f9d1, 0x1f468, 0x1f469,
  0x1f466, 0x1f467, 0x1f476, 0x1f9d2, 0x1f382, 0x1f680, 0x1f525, 0x1f308, 0x1f30d, 0x1f4bb, 0x1f4f1,
  0x1f9e0, 0x1fae0, 0x1fa77, 0x1f6dc, 0x1faf8, 0x2764, 0x2600, 0x2603, 0x270c, 0x261d, 0x1f3f3, 0x1f3f4,
];
const SKIN = [0x1f3fb, 0x1f3fc, 0x1f3fd, 0x1f3fe, 0x1f3ff];
const ZWJ_SEQS = [
  [0x1f468, 0x200d, 0x1f469, 0x200d, 0x1f467, 0x200d, 0x1f466], // family
  [0x1f469, 0x200d, 0x2764, 0xfe0f, 0x200d, 0x1f48b, 0x200d, 0x1f468], // kiss
  [0x1f3f3, 0xfe0f, 0x200d, 0x1f308], // rainbow flag
  [0x1f3f4, 0x200d, 0x2620, 0xfe0f], // pirate flag
  [0x1f9d1, 0x200d, 0x1f4bb], // technologist
  [0x1f415, 0x200d, 0x1f9ba], // service dog
  [0x1f43b, 0x200d, 0x2744, 0xfe0f], // polar bear
  [0x2764, 0xfe0f, 0x200d, 0x1f525], // heart on fire
  [0x1f9d1, 0x200d, 0x1f91d, 0x200d, 0x1f9d1], // people holding hands
];
const FLAGS = ['JP', 'US', 'FR', 'DE', 'IN', 'BR', 'KR', 'CN', 'SA', 'IL', 'UA', 'EU', 'UN', 'ZZ'];
const TAG_FLAGS = ['gbeng', 'gbsct', 'gbwls', 'usca'];

function emoji(rng) {
  switch (rng.int(7)) {
    case 0: return cp(rng.pick(EMOJI_BASE));
    case 1: return cp(rng.pick([0x1f44d, 0x1f44b, 0x1f64f, 0x270c, 0x261d, 0x1f9d1, 0x1f469, 0x1f476]), rng.pick(SKIN));
    case 2: {
      const seq = [...rng.pick(ZWJ_SEQS)];
      if (rng.chance(0.4)) seq.splice(1, 0, rng.pick(SKIN));
      return cp(...seq);
    }
    case 3: return [...rng.pick(FLAGS)].map((c) => cp(0x1f1e6 + c.charCodeAt(0) - 65)).join('');
    case 4: return cp(0x1f3f4, ...[...rng.pick(TAG_FLAGS)].map((c) => 0xe0000 + c.charCodeAt(0)), 0xe007f);
    case 5: return `${rng.pick('0123456789#*')}${cp(0xfe0f, 0x20e3)}`; // keycap
    default: return cp(rng.pick([0x2764, 0x263a, 0x2603, 0x2708]), rng.pick([0xfe0e, 0xfe0f]));
  }
}

const ODD = [
  'e\u0301', '\u00e9', 'a\u0308\u0301\u0323', 'Z\u0351\u0364\u0310\u034a\u0306\u0489\u0489', 'n\u0303\u0303\u0303',
  '\u212a', '\u212b', '\u2126', '\u017f', '\u0130', '\u0131', '\u00df', '\u1e9e', '\ufb01', '\ufb03',
  '\u01c5', '\u01c8', '\u1f88', '\u03c2', '\u03a3', '\u0587',
  '\u00a0', '\u202f', '\u2007', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad',
  '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u061c',
  '\r\n', '\r', '\n', '\u0085', '\u2028', '\u2029', '\u000b', '\u000c', '\t', '\u3000', '\u1680', '\u180e', '\u205f',
  '\u0001', '\u001b[0m', '\u007f', '\u0080', '\u009f',
  cp(0x1d400), cp(0x1d41a), cp(0x1d7ce), '\uff21\uff22\uff23', '\uff11\uff12\uff13', '\u00b2', '\u00bd', '\u2167', '\u2460', '\u3007',
  '\u0660\u0661\u0662', '\u0966\u0967\u0968', '\u0e51\u0e52', cp(0x104a0, 0x104a1),
  '\u0628\u0650\u0633\u0652\u0645\u0650', '\u0640\u0640\u0640', '\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd',
  '\u0915\u094d\u0937', '\u0915\u093f', '\u0e01\u0e48\u0e4d', '\u1100\u1161\u11a8', '\u1112\u1161\u11ab',
  '\uff76\uff9e', '\u30ac', '\u304b\u3099', '\uf900', '\u2ff0\u4e00\u4e8c', '\u3005',
  '\ue000', '\uf8ff', cp(0xf0000), cp(0x10fffd), '\ufdd0', '\ufffe', '\uffff', cp(0x10ffff),
  '\u0378', '\u0530', cp(0x40000), cp(0xe0000), cp(0x2fffe), '\ufffd',
  // letters added in Unicode 15.0 / 15.1 / 16.0 / 17.0
  cp(0x11f04), cp(0x1e4d0), cp(0x31350), cp(0x2ebf0), cp(0x2ee5d), '\u31ef', '\u2ffc',
  cp(0x10d50), cp(0x10d70), cp(0x105c0), cp(0x16d43), cp(0x11bc0), cp(0x16100), cp(0x1e5d0),
  '\ua7cb', '\ua7dc', cp(0x13460), cp(0x1cc00), cp(0x1ccf0), cp(0x10d40), cp(0x16d70),
  cp(0x10940), cp(0x1e6c0), cp(0x323b0), cp(0x16ea0),
];
const WORDS = [
  'the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'Hello', 'WORLD', 'tokenizer',
  'café', 'naïve', 'Ångström', 'façade', 'Zürich', 'İstanbul', 'ΑΘΗΝΑ', 'αθήνα', 'Привет', 'мир',
  'שלום', 'مرحبا', 'नमस्ते', 'हिन्दी', 'こんにちは', 'カタカナ', '漢字', '你好', '世界', '안녕하세요', '한국어',
  'ภาษาไทย', 'ქართული', 'Հայերեն', 'አማርኛ', 'ᏣᎳᎩ', 'ꓐꓳ', cp(0x10400, 0x10428), cp(0x1e900, 0x1e922),
  'x', 'Y', 'i', 'I', 'A1', 'b2c3', 'snake_case', 'camelCase', 'HTTPServer', 'XMLHttpRequest',
];
const PUNCT = ['.', ',', '!', '?', ';', ':', '...', '—', '–', '-', '(', ')', '[', ']', '{', '}', '"', '«', '»',
  '「', '」', '。', '、', '！', '？', '¿', '¡', '/', '//', '\\', '@', '#', '$', '%', '^', '&', '*', '+', '=',
  '<', '>', '|', '~', '`', '€', '£', '¥', '₹', '→', '∑', '∞', '≠', '©', '®', '™', '§', '¶', '•', '…'];
const NUMBERS = ['0', '7', '42', '123', '1234', '12345', '2024', '3.14159', '1,234,567.89', '1e-10', '0xDEADBEEF',
  '0b1010', '-17', '+1', '100%', '1/2', '10:30', '2025-01-31', '127.0.0.1', '+1 (555) 123-4567', '٣٫١٤', '१२३४५'];

function sentence(rng) {
  const parts = [];
  const n = rng.range(3, 18);
  for (let i = 0; i < n; i++) {
    const r = rng.int(100);
    let tok;
    if (r < 30) tok = randomCase(rng, rng.pick(WORDS));
    else if (r < 45) tok = contraction(rng);
    else if (r < 58) tok = emoji(rng);
    else if (r < 70) tok = rng.pick(ODD);
    else if (r < 82) tok = rng.pick(PUNCT);
    else tok = rng.pick(NUMBERS);
    parts.push(tok);
    const s = rng.int(100);
    parts.push(s < 70 ? ' ' : s < 78 ? '' : s < 84 ? '  ' : s < 88 ? '\u00a0' : s < 92 ? '\t' : s < 96 ? '\n' : '\r\n');
  }
  return parts.join('');
}

function syntheticUnicode(limit) {
  const rng = makeRng(0x5eed0001);
  const out = [];
  let size = 0;
  const push = (s) => { out.push(s); size += Buffer.byteLength(s); };
  // A fixed preamble with every edge case at least once, in a stable order.
  push("I'M You'Ll DON'T they'RE it's IT'S it'S it'\u017f we'VE she'D he'll HE'LL I'd Y'ALL\n");
  push("don\u2019t can\u02bct it\uff07s '\u017f 's 'S 'll ''s ''' x's's's 's's \u212aelvin's \u212a's\n");
  push(`${ODD.join(' ')}\n`);
  push(`${ODD.join('')}\n`);
  for (const c of ODD) push(`${c}'s ${c}'S X${c}'ll ${c}${c}'t\n`);
  for (const w of WORDS) push(`${w}'s ${w.toUpperCase()}'RE ${w}\u017f ${w} ${w}\r\n`);
  while (size < limit) {
    const lines = rng.range(1, 6);
    for (let i = 0; i < lines; i++) push(sentence(rng) + rng.pick(['\n', '\n', '\r\n', '\n\n', ' \n', '\u2028']));
    if (rng.chance(0.1)) push(Array.from({ length: rng.range(5, 60) }, () => emoji(rng)).join(rng.pick(['', ' ', ZWJ])) + '\n');
  }
  return out.join('');
}

function run(rng, s, min, max) { return s.repeat(rng.range(min, max)); }

function digits(rng, n) {
  let s = String(rng.range(1, 9));
  for (let i = 1; i < n; i++) s += String(rng.int(10));
  return s;
}

function syntheticRuns(limit) {
  const rng = makeRng(0x5eed0002);
  const out = [];
  let size = 0;
  const push = (s) => { out.push(s); size += Buffer.byteLength(s); };
  // Fixed cases first.
  push(`x${' '.repeat(500)}y\n`);
  push(`${' '.repeat(500)}\n`);
  push(`word${' '.repeat(499)}\n${' '.repeat(17)}word\n`);
  push(`${'\n'.repeat(100)}a${'\r\n'.repeat(100)}b${'\t'.repeat(200)}c\n`);
  push(`${digits(rng, 1000)}\n`);
  push(`${digits(rng, 1000)} ${digits(rng, 999)} ${digits(rng, 998)}\n`);
  push(`${'9'.repeat(1000)}\n${'0'.repeat(1000)}\n`);
  push(`${'a'.repeat(1000)}\n${'A'.repeat(1000)}\n${'aA'.repeat(500)}\n`);
  push(`${'!'.repeat(500)}\n${'-'.repeat(800)}\n${'='.repeat(300)}\n${'/'.repeat(300)}\n${'.'.repeat(300)}\n`);
  push(`${"'s".repeat(300)}\n${"'".repeat(300)}\n${'\u00a0'.repeat(300)}\n${'\u3000'.repeat(200)}\n`);
  push(`${'😀'.repeat(300)}\n${'漢'.repeat(1500)}\n${'한'.repeat(1000)}\n`);
  push(`${' \n'.repeat(200)}\n${' \t'.repeat(200)}\n${'\r'.repeat(100)}\n${'\u2028'.repeat(50)}\n`);
  push(`${'\u0301'.repeat(200)}\n${'e\u0301'.repeat(300)}\n`);
  const ws = [' ', ' ', ' ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u000b', '\u000c', '\u0085', '\u2028', '\u202f'];
  while (size < limit - 4000) {
    const r = rng.int(12);
    switch (r) {
      case 0: push(run(rng, ' ', 1, 600)); break;
      case 1: push(run(rng, rng.pick(['\n', '\r\n', '\n\n', '\r']), 1, 80)); break;
      case 2: push(run(rng, rng.pick(['\t', ' \t', '\t ']), 1, 120)); break;
      case 3: push(digits(rng, rng.range(1, rng.chance(0.2) ? 1000 : 40))); break;
      case 4: push(Array.from({ length: rng.range(2, 30) }, () => digits(rng, rng.range(1, 6))).join(rng.pick([' ', ',', '.', '', '\n', '-']))); break;
      case 5: push(Array.from({ length: rng.range(1, 40) }, () => rng.pick(ws)).join('')); break;
      case 6: push(randomCase(rng, rng.pick(WORDS)).repeat(rng.range(1, 50))); break;
      case 7: push(run(rng, rng.pick(PUNCT), 1, 200)); break;
      case 8: push(contraction(rng)); break;
      case 9: push(run(rng, rng.pick(['0', '1', '٠', '१', '０', '²', 'Ⅻ', '①']), 1, 300)); break;
      case 10: push(`${run(rng, ' ', 1, 300)}${rng.pick(['\n', 'x', '!', '1', '😀', '', '\u00a0'])}`); break;
      default: push(rng.pick(['\n', ' ', '\t', '', 'x', '.', '\r\n']));
    }
  }
  push(`end with spaces${' '.repeat(257)}`);
  return out.join('');
}

// Slices of the real files, joined with odd separators and lightly mutated:
// script changes inside words, marks, case flips, inserted whitespace.
function mixed(realTexts, limit) {
  const rng = makeRng(0x5eed0003);
  const pools = realTexts.map((t) => [...t]); // code points
  const out = [];
  let size = 0;
  while (size < limit) {
    const pool = rng.pick(pools);
    const len = rng.range(1, 400);
    const start = rng.int(Math.max(1, pool.length - len));
    let chars = pool.slice(start, start + len);
    const muts = rng.int(6);
    for (let m = 0; m < muts && chars.length; m++) {
      const at = rng.int(chars.length + 1);
      switch (rng.int(6)) {
        case 0: chars.splice(at, 0, rng.pick(ODD)); break;
        case 1: chars.splice(at, 0, contraction(rng)); break;
        case 2: chars.splice(at, 0, emoji(rng)); break;
        case 3: chars.splice(at, rng.range(1, 5)); break;
        case 4: chars.splice(at, 0, ...chars.slice(at, at + rng.range(1, 20))); break;
        default: chars = chars.map((c) => (rng.chance(0.3) ? (rng.chance(0.5) ? c.toUpperCase() : c.toLowerCase()) : c));
      }
    }
    const s = chars.join('') + rng.pick(['', ' ', '\n', '\r\n', '\u00a0', '\u200b', "'s", '\t', '  ']);
    out.push(s);
    size += Buffer.byteLength(s);
  }
  return out.join('') + '\n';
}

// --------------------------------------------------------------- main ----
mkdirSync(outDir, { recursive: true });
const written = [];
function emit(name, text, limit) {
  const body = cutAtLine(text, limit);
  if (body.startsWith('\ufeff')) throw new Error(`${name}: starts with a BOM`);
  if (/[\ud800-\udfff]/u.test(body)) throw new Error(`${name}: lone surrogate`);
  writeFileSync(join(outDir, name), body);
  written.push([name, Buffer.byteLength(body)]);
  return body;
}

const realTexts = [];
for (const f of REAL) {
  const parts = f.parts();
  const body = emit(f.name, parts.map(([, t]) => t).join('\n'), f.limit);
  const size = Buffer.byteLength(body);
  let off = 0;
  const used = [];
  for (const [label, t] of parts) {
    if (off >= size) break;
    const n = Buffer.byteLength(t) + 1;
    used.push(off + n > size ? `${label} (first ${size - off} bytes)` : label);
    off += n;
  }
  console.log(`${f.name}: ${used.join(', ')}`);
  realTexts.push(body);
}
emit('synthetic_unicode.txt', syntheticUnicode(150 * KB), 150 * KB);
emit('synthetic_runs.txt', syntheticRuns(100 * KB), 100 * KB + 1000);
emit('mixed.txt', mixed(realTexts, 150 * KB), 150 * KB);

let total = 0;
for (const [name, n] of written) { console.log(`${String(n).padStart(8)}  ${name}`); total += n; }
console.log(`${String(total).padStart(8)}  total`);

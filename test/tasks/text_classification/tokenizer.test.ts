/** The pure tokenizer: tricky text, the vocabulary, features, max_length, and that the module stays dependency-free. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  encode,
  featureCount,
  fitTokenizer,
  fnv1a,
  parseTokenizer,
  subwords,
  toBag,
  toDense,
  toSequence,
  UNK,
  words,
  type TokenizerConfig,
} from '../../../tasks/text_classification/tokenizer.js';

const CONFIG: TokenizerConfig = {
  splitter: 'words',
  normalize: 'nfkc',
  lowercase: true,
  max_length: 50,
  subword_min: 3,
  subword_max: 4,
  subword_buckets: 64,
  bigram_buckets: 32,
  most_common: 1000,
  min_count: 1,
};
const w = (text: string, over: Partial<TokenizerConfig> = {}) => words({ ...CONFIG, ...over }, text).words;

test('NFKC folds combining accents, full-width letters, ligatures and circled digits; lower-casing is configurable', () => {
  // 'e' + U+0301 (combining acute) and the precomposed 'é' are one word after NFKC.
  assert.deepEqual(w('Cafe\u0301'), w('Café'));
  assert.deepEqual(w('Cafe\u0301'), ['café']);
  assert.deepEqual(w('ＦＵＬＬ ﬁne ①'), ['full', 'fine', '1']);
  assert.deepEqual(w('Cafe\u0301 ＡＢ', { normalize: 'none', lowercase: false }), ['Cafe\u0301', 'ＡＢ']);
  assert.deepEqual(w('Hello World', { lowercase: false }), ['Hello', 'World']);
});

test('emoji stay whole with skin tones and ZWJ sequences; punctuation is its own word; apostrophes stay inside words', () => {
  assert.deepEqual(w('I love it 😍👍🏽 family 👨‍👩‍👧!'), ['i', 'love', 'it', '😍', '👍🏽', 'family', '👨‍👩‍👧', '!']);
  assert.deepEqual(w("don’t stop, l'homme"), ['don’t', 'stop', ',', "l'homme"]);
});

test('CJK: each Han, Hiragana or Katakana character is a word, also next to Latin letters', () => {
  assert.deepEqual(w('東京はsunny'), ['東', '京', 'は', 'sunny']);
  assert.deepEqual(w('カタカナ'), ['カ', 'タ', 'カ', 'ナ']);
});

test('a URL is one word, without the punctuation after it', () => {
  assert.deepEqual(w('see https://Example.com/a?b=1, now'), ['see', 'https://example.com/a?b=1', ',', 'now']);
  assert.deepEqual(w('at www.flash.dev.'), ['at', 'www.flash.dev', '.']);
});

test('whitespace splitter is fastText’s own', () => {
  assert.deepEqual(w('a, b!  c', { splitter: 'whitespace' }), ['a,', 'b!', 'c']);
});

test('a very long text is cut at max_length words and says so; a 10 MB text is cheap', () => {
  const long = 'word '.repeat(100);
  const r = words({ ...CONFIG, max_length: 10 }, long);
  assert.equal(r.words.length, 10);
  assert.equal(r.truncated, true);
  assert.equal(words({ ...CONFIG, max_length: 100 }, long).truncated, false);
  const huge = 'x'.repeat(10 * 1024 * 1024);
  const t0 = Date.now();
  const e = encode(fitTokenizer(CONFIG, ['x']), huge);
  assert.equal(e.truncated, true);
  assert.ok(Date.now() - t0 < 2000, 'a 10 MB text is cut before it is normalised');
});

test('subwords are fastText’s character n-grams of <word>, by code point', () => {
  assert.deepEqual(subwords('abc', 3, 4), ['<ab', 'abc', 'bc>', '<abc', 'abc>']);
  assert.deepEqual(subwords('é😍', 3, 3), ['<é😍', 'é😍>']);
  assert.deepEqual(subwords('abc', 0, 0), []);
});

test('fnv1a is the 32-bit FNV-1a of the UTF-16 code units', () => {
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
});

test('the vocabulary: most frequent first (ties by code order), min_count and most_common, <unk> at 0', () => {
  const s = fitTokenizer({ ...CONFIG, min_count: 2, most_common: 2 }, ['b a c a', 'b a d', 'c c']);
  assert.deepEqual(s.vocab, [UNK, 'a', 'c']);
  // Order of the texts does not matter.
  assert.deepEqual(fitTokenizer(CONFIG, ['x y', 'y x']).vocab, fitTokenizer(CONFIG, ['y x', 'x y']).vocab);
});

test('features: words, subwords and bigrams in their ranges, weights summing to 1; unknown words share <unk>', () => {
  const s = fitTokenizer(CONFIG, ['good movie', 'bad movie']);
  const v = s.vocab.length;
  assert.equal(featureCount(s), v + 64 + 32);
  const e = encode(s, 'good film');
  assert.ok(e.ids.includes(s.vocab.indexOf('good')));
  assert.ok(e.ids.includes(0), "'film' is <unk>");
  assert.ok([...e.ids].some((id) => id >= v && id < v + 64), 'subwords');
  assert.ok([...e.ids].some((id) => id >= v + 64), 'a bigram');
  assert.deepEqual([...e.ids], [...e.ids].sort((a, b) => a - b));
  assert.ok(Math.abs(e.weights.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  // The same text gives the same features, and the dense row holds them.
  assert.deepEqual(encode(s, 'good film'), e);
  const dense = toDense(s, [e]);
  assert.equal(dense.length, featureCount(s));
  e.ids.forEach((id, j) => assert.equal(dense[id], e.weights[j]));
  // No words: no features (the model sees a zero vector).
  assert.equal(encode(s, '   ').ids.length, 0);
});

test('tokens and sequence: every feature in text order with repeats (their counts are the weights), words in order', () => {
  const s = fitTokenizer(CONFIG, ['good movie', 'bad movie']);
  const e = encode(s, 'good good film');
  const counts = new Map<number, number>();
  for (const id of e.tokens) counts.set(id, (counts.get(id) ?? 0) + 1);
  assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [...e.ids]);
  e.ids.forEach((id, j) => assert.ok(Math.abs(counts.get(id)! / e.tokens.length - e.weights[j]) < 1e-7));
  assert.deepEqual([...e.sequence], [s.vocab.indexOf('good'), s.vocab.indexOf('good'), 0]);
  assert.equal(e.tokens[0], s.vocab.indexOf('good'), 'a word comes before its subwords');
});

test('toBag and toSequence: ids + 1, padded with 0 to the batch\'s longest (sequence: plus the tail)', () => {
  const s = fitTokenizer(CONFIG, ['good movie', 'bad movie']);
  const a = encode(s, 'good movie'), b = encode(s, 'bad');
  const bag = toBag([a, b]);
  assert.deepEqual(bag.shape, [2, a.tokens.length]);
  assert.deepEqual([...bag.ids.subarray(0, a.tokens.length)], [...a.tokens].map((id) => id + 1));
  assert.deepEqual([...bag.ids.subarray(a.tokens.length, a.tokens.length + b.tokens.length)], [...b.tokens].map((id) => id + 1));
  assert.ok(bag.ids.subarray(a.tokens.length + b.tokens.length).every((id) => id === 0));
  const seq = toSequence([a, b], 3);
  assert.deepEqual(seq.shape, [2, 5]);
  assert.deepEqual([...seq.ids], [a.sequence[0] + 1, a.sequence[1] + 1, 0, 0, 0, b.sequence[0] + 1, 0, 0, 0, 0]);
  // An empty text still has a row (of padding).
  assert.deepEqual(toBag([encode(s, '  ')]).shape, [1, 1]);
});

test('a saved tokenizer round-trips through JSON and gives identical ids; a foreign file is refused', () => {
  const s = fitTokenizer(CONFIG, ['Café 東京 😍 https://x.io', 'déjà vu']);
  const back = parseTokenizer(JSON.parse(JSON.stringify(s)));
  for (const t of ['Cafe\u0301 東京 😍!', 'https://x.io déjà', 'x'.repeat(5000)]) assert.deepEqual(encode(back, t), encode(s, t));
  assert.throws(() => parseTokenizer({ vocab: [] }), /not a flash text tokenizer/);
});

test('the tokenizer module imports nothing (it must run in a browser as is)', () => {
  const src = readFileSync(fileURLToPath(import.meta.url).replace(/test\/tasks\/text_classification\/tokenizer\.test\.js$/, 'tasks/text_classification/tokenizer.js'), 'utf8');
  assert.doesNotMatch(src, /^\s*import\s/m);
  assert.doesNotMatch(src, /\brequire\(|\bprocess\.|\bBuffer\b/);
});

/**
 * The text tokenizer of text_classification: text → a sparse bag of feature ids (fastText's recipe).
 *
 * Pure and dependency-free on purpose: no imports, no Node APIs, only ECMAScript 2018+ (Unicode property escapes,
 * `String.prototype.normalize`, `Math.imul`), so the compiled file runs unchanged in a browser and a later
 * `flash export` can ship it beside the model — the same code then tokenizes in Node and in the page.
 *
 * Features of one text, in one id space of `featureCount(state)` ids:
 * - [0, V): words of the vocabulary learnt on the training split (id 0 is `<unk>`, every out-of-vocabulary word);
 * - [V, V + S): character n-grams of each word, fastText's subwords (`<where>` → `<wh`, `whe`, …), hashed into
 *   S buckets, so unseen and misspelt words still share features with known ones;
 * - [V + S, V + S + B): consecutive word pairs, hashed into B buckets (fastText's `-wordNgrams 2`).
 * The models read a text in one of two layouts (`toBag`, `toSequence`; `toDense` is the same bag as one wide
 * normalised-count vector): the bag of all its features, or its words in order.
 */

/** Everything that decides how text becomes features; saved in the run folder with the vocabulary. */
export interface TokenizerConfig {
  /** How text splits into words: a name in SPLITTERS. */
  splitter: string;
  /** Unicode normalisation before anything else: NFKC folds compatibility forms (ｆｕｌｌ width, ligatures, ①). */
  normalize: 'nfkc' | 'none';
  lowercase: boolean;
  /** Words kept per text; the rest is cut (and counted as cut). */
  max_length: number;
  /** Smallest and largest character n-gram of a word; 0 for either = no subwords. */
  subword_min: number;
  subword_max: number;
  /** Hash buckets of the subwords (0 = no subwords). */
  subword_buckets: number;
  /** Hash buckets of the word bigrams (0 = no bigrams). */
  bigram_buckets: number;
  /** The vocabulary keeps at most this many words, the most frequent in the training split. */
  most_common: number;
  /** …and only words seen at least this often there. */
  min_count: number;
}

/** A fitted tokenizer: its config and vocabulary (`vocab[0]` is `<unk>`). The whole of tokenizer.json. */
export interface TokenizerState {
  format: 'flash-text-tokenizer';
  version: 1;
  config: TokenizerConfig;
  vocab: string[];
}

/** One text as features: sorted ids and their weights (summing to 1), and what was cut. */
export interface EncodedText {
  ids: Int32Array;
  weights: Float32Array;
  /** Every feature in text order, repeats kept: each word, its subwords, then the bigram it ends. */
  tokens: Int32Array;
  /** The words' vocabulary ids in order (0 = <unk>). */
  sequence: Int32Array;
  /** Words after the cut at max_length. */
  words: number;
  /** True when the text had more than max_length words. */
  truncated: boolean;
}

export const UNK = '<unk>';

/** A way of splitting normalised text into words. */
export interface Splitter {
  description: string;
  split(text: string, maxWords: number): { words: string[]; truncated: boolean };
}

// Han, Hiragana and Katakana are written without spaces: each character is a word (as in character-level
// baselines for Chinese and Japanese); fastText's subwords and bigrams then recover the multi-character words.
const CJK = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/gu;
// A URL stays one word (it is one thing to a classifier), without the punctuation after it; a word is letters,
// marks and digits with inner apostrophes (don't, l'homme); an emoji with its skin tone, variation selector and
// ZWJ-joined parts (👍🏽, 👨‍👩‍👧) or a punctuation/symbol character is a word of its own ('!' matters for sentiment).
// Everything else (spaces, lone joiners and selectors) separates words.
const WORD =
  /(?:https?:\/\/|www\.)[^\s]*[^\s.,;:!?)\]'"]|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F|\u200D\p{Extended_Pictographic})*|[\p{P}\p{S}]/gu;

/** Takes the regex's matches up to `max`, lazily: a 10 MB text costs only what is kept. */
function matches(re: RegExp, text: string, max: number): { words: string[]; truncated: boolean } {
  const words: string[] = [];
  const r = new RegExp(re.source, re.flags);
  let m: RegExpExecArray | null;
  while ((m = r.exec(text)) !== null) {
    if (words.length === max) return { words, truncated: true };
    words.push(m[0]);
  }
  return { words, truncated: false };
}

/** The splitters by name (the task registers them as its `tokenizers` registry). */
export const SPLITTERS: Record<string, Splitter> = {
  words: {
    description: 'Unicode words: letters/digits with inner apostrophes, each CJK character, each emoji and punctuation mark, URLs whole',
    split: (text, max) => matches(WORD, text.replace(CJK, ' $1 '), max),
  },
  whitespace: {
    description: "fastText's own: runs of non-space characters",
    split: (text, max) => matches(/\S+/gu, text, max),
  },
};

/**
 * Raw characters looked at per kept word: the text is cut to max_length × this before normalising, so a huge
 * single text costs little; a text whose words average more than this many characters loses some of its last ones.
 */
export const CHARS_PER_WORD = 64;

/** Normalised, lower-cased (as configured) and split text, cut at max_length words. */
export function words(config: TokenizerConfig, text: string): { words: string[]; truncated: boolean } {
  const splitter = SPLITTERS[config.splitter];
  if (!splitter) throw new Error(`unknown tokenizer splitter '${config.splitter}'; available: ${Object.keys(SPLITTERS).join(', ')}`);
  const budget = config.max_length * CHARS_PER_WORD;
  let t = text.length > budget ? text.slice(0, budget) : text;
  if (config.normalize === 'nfkc') t = t.normalize('NFKC');
  if (config.lowercase) t = t.toLowerCase();
  const out = splitter.split(t, config.max_length);
  return { words: out.words, truncated: out.truncated || text.length > budget };
}

/** 32-bit FNV-1a over UTF-16 code units: the same number in every JavaScript engine. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** fastText's subwords of a word: character n-grams of `<word>` (by code point), the whole `<word>` excluded. */
export function subwords(word: string, min: number, max: number): string[] {
  if (min <= 0 || max <= 0) return [];
  const chars = [...`<${word}>`];
  const out: string[] = [];
  for (let n = min; n <= max; n++) {
    for (let i = 0; i + n <= chars.length; i++) {
      if (n === chars.length) continue;
      out.push(chars.slice(i, i + n).join(''));
    }
  }
  return out;
}

/** Learns the vocabulary from the training texts: the `most_common` words seen at least `min_count` times. */
export function fitTokenizer(config: TokenizerConfig, texts: Iterable<string>): TokenizerState {
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of words(config, text).words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const kept = [...counts].filter(([, n]) => n >= config.min_count);
  // Most frequent first; ties by code-unit order, so the vocabulary does not depend on the order of the data.
  kept.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const vocab = [UNK, ...kept.slice(0, config.most_common).map(([w]) => w)];
  return { format: 'flash-text-tokenizer', version: 1, config: { ...config }, vocab };
}

/** Size of the feature space (the model's input width). */
export function featureCount(state: TokenizerState): number {
  return state.vocab.length + state.config.subword_buckets + state.config.bigram_buckets;
}

/** Word → vocabulary id lookups, built once per state. */
const indexCache = new WeakMap<TokenizerState, Map<string, number>>();
function vocabIndex(state: TokenizerState): Map<string, number> {
  let index = indexCache.get(state);
  if (!index) {
    index = new Map(state.vocab.map((w, i) => [w, i]));
    indexCache.set(state, index);
  }
  return index;
}

/** One text → its features (see the file comment), ids ascending. */
export function encode(state: TokenizerState, text: string): EncodedText {
  const { config } = state;
  const index = vocabIndex(state);
  const v = state.vocab.length;
  const s = config.subword_buckets;
  const b = config.bigram_buckets;
  const { words: ws, truncated } = words(config, text);
  const counts = new Map<number, number>();
  const tokens: number[] = [];
  const sequence = new Int32Array(ws.length);
  const add = (id: number) => (counts.set(id, (counts.get(id) ?? 0) + 1), tokens.push(id));
  for (let i = 0; i < ws.length; i++) {
    sequence[i] = index.get(ws[i]) ?? 0;
    add(sequence[i]);
    if (s > 0) for (const g of subwords(ws[i], config.subword_min, config.subword_max)) add(v + (fnv1a(g) % s));
    // A space cannot be inside a word, so 'a b' names the pair unambiguously.
    if (b > 0 && i > 0) add(v + s + (fnv1a(`${ws[i - 1]} ${ws[i]}`) % b));
  }
  const ids = Int32Array.from([...counts.keys()].sort((x, y) => x - y));
  let total = 0;
  for (const n of counts.values()) total += n;
  const weights = Float32Array.from(ids, (id) => counts.get(id)! / total);
  return { ids, weights, tokens: Int32Array.from(tokens), sequence, words: ws.length, truncated };
}

/** Id 0 of the bag and sequence layouts: padding; every real id is shifted up by one. */
export const PAD = 0;

/** A batch in an id layout: row-major ids and their [rows, length] shape. */
export interface IdBatch {
  ids: Int32Array;
  shape: [number, number];
}

function padded(rows: readonly Int32Array[], length: number): IdBatch {
  const ids = new Int32Array(rows.length * length);
  rows.forEach((r, i) => {
    for (let j = 0; j < r.length; j++) ids[i * length + j] = r[j] + 1;
  });
  return { ids, shape: [rows.length, length] };
}

/**
 * The bag layout: each text's feature tokens (id + 1, repeats kept), padded with PAD to the longest in the batch.
 * A model that averages the non-pad embeddings gets the same vector for a text whatever it is batched with.
 */
export function toBag(encoded: readonly EncodedText[]): IdBatch {
  return padded(encoded.map((e) => e.tokens), Math.max(1, ...encoded.map((e) => e.tokens.length)));
}

/**
 * The sequence layout: each text's word ids (id + 1) in order, padded with PAD to the longest in the batch plus
 * `tail`. With `tail` ≥ a convolution's window, every text ends in at least one all-pad window, so a max over
 * time sees the same values whatever the batch's length: predictions do not depend on what a text is batched with.
 */
export function toSequence(encoded: readonly EncodedText[], tail: number): IdBatch {
  return padded(encoded.map((e) => e.sequence), Math.max(1, ...encoded.map((e) => e.sequence.length)) + tail);
}

/** Texts as a dense row-major [n × featureCount] Float32Array, the saved model's input. */
export function toDense(state: TokenizerState, encoded: readonly EncodedText[]): Float32Array {
  const dim = featureCount(state);
  const out = new Float32Array(encoded.length * dim);
  encoded.forEach((e, row) => e.ids.forEach((id, j) => (out[row * dim + id] = e.weights[j])));
  return out;
}

/** A tokenizer.json checked just enough to fail with a clear message instead of wrong predictions. */
export function parseTokenizer(json: unknown): TokenizerState {
  const t = json as TokenizerState;
  if (!t || t.format !== 'flash-text-tokenizer' || t.version !== 1 || !Array.isArray(t.vocab) || t.vocab[0] !== UNK || typeof t.config !== 'object') {
    throw new Error('not a flash text tokenizer (format flash-text-tokenizer, version 1)');
  }
  return t;
}

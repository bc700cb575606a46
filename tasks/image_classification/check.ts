/**
 * The dataset check (`flash image_classification … --check`): what a builder found, read file by file without
 * keeping anything in memory — class counts per split, undecodable images, non-image files, exact duplicates
 * (sha256 of the file bytes) inside a split and across train/val/test, small classes, image size and channel
 * statistics and class imbalance. Problems that make training meaningless (fewer than 2 classes, an empty split)
 * fail the check; everything else is a warning.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { ImageRecipe as Recipe } from './schema.js';
import { FlashUserError } from '../../src/core/errors.js';
import type { TaskIO as CliIO } from '../../src/core/task_io.js';
import { dataOptions } from './data_options.js';
import { builders, recipeHasNoData } from './builders.js';
import { multiLabelMode } from '../classification/multi_label.js';
import { decodeImage, ImageDecodeError, stratifiedSplit, type DataPlan, type Sample } from './data/index.js';
import { DecodedImage } from './data/tf_dataset.js';
import { DEFAULT_SEED } from '../../src/core/config/index.js';

export type SplitName = 'train' | 'val' | 'test';

export interface CheckOptions {
  /** Classes with fewer train images than this are reported. Default 5. */
  minPerClass?: number;
  /** When the plan has no val split: the fraction held out (as training does). Default 0.2. */
  valSplit?: number;
  /** Seed of that split. Default 42. */
  seed?: number;
  /** Fully decode each image to find undecodable ones (default true); false reads only headers (faster). */
  decode?: boolean;
  /** Read image headers for size/channel statistics and unreadable files (default true); false only hashes bytes. */
  headers?: boolean;
  /** Files read at a time. Default 8. */
  concurrency?: number;
}

/** A file of the dataset as the report names it. */
export interface CheckedFile {
  file: string;
  split: SplitName;
  label: string;
}

export interface DuplicateGroup {
  sha256: string;
  files: CheckedFile[];
  /** The copies carry different labels (the same image taught as two classes). */
  conflictingLabels: boolean;
}

export interface Spread {
  min: number;
  median: number;
  max: number;
}

export interface SplitReport {
  name: SplitName;
  /** 'given': its own folder/files; 'split': held out from train by val_split (seeded, stratified). */
  source: 'given' | 'split';
  /** Usable (decodable) images. */
  total: number;
  /** Usable images per class, in label order. */
  counts: Record<string, number>;
}

export interface CheckReport {
  /** False when a problem makes training meaningless. */
  ok: boolean;
  /** Several labels per image: `classes` are the labels and split counts are images carrying each. */
  multiLabel: boolean;
  origin: string;
  classes: string[];
  splits: SplitReport[];
  /** Images to predict after training (not checked). */
  predict: number;
  undecodable: (CheckedFile & { reason: string })[];
  /** Non-image files left out by the folder scan. */
  ignored: string[];
  duplicates: {
    /** Identical files inside one split. */
    withinSplit: DuplicateGroup[];
    /** Identical files in two or more of train/val/test (leaks evaluation data into training). */
    acrossSplits: DuplicateGroup[];
  };
  minPerClass: number;
  /** Classes with fewer than minPerClass train images. */
  smallClasses: { label: string; count: number }[];
  /** Sizes as stored (after EXIF rotation), channel counts as stored (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA). */
  images: {
    count: number;
    width: Spread | null;
    height: Spread | null;
    channels: Record<string, number>;
    formats: Record<string, number>;
  };
  /** Train class sizes: largest/smallest (smallest over classes with at least one image). */
  imbalance: { largest: { label: string; count: number }; smallest: { label: string; count: number }; ratio: number } | null;
  /** What makes training meaningless (the check fails). */
  problems: string[];
  /** Worth a look; training still runs. */
  warnings: string[];
}

interface Inspected {
  sha256: string;
  width?: number;
  height?: number;
  channels?: number;
  format?: string;
  /** Set when the image can't be decoded. */
  error?: string;
}

/** Imbalance above this ratio is a warning (the point where class weights start to matter). */
export const IMBALANCE_WARNING_RATIO = 3;

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

const TINY = { height: 8, width: 8, channels: 3 as const };

/** Reads one sample once: hash of its bytes, header, and (optionally) a full decode. */
async function inspect(sample: Sample, decode: boolean, headers: boolean): Promise<Inspected> {
  const src = sample.source;
  if (src instanceof tf.Tensor) {
    const data = await src.data();
    const hash = createHash('sha256').update(src.shape.join('x')).update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    return { sha256: hash.digest('hex'), height: src.shape[0], width: src.shape[1], channels: src.shape[2], format: 'tensor' };
  }
  if (src instanceof DecodedImage) {
    const { height, width, channels } = src.spec;
    const hash = createHash('sha256').update(`${height}x${width}x${channels}`).update(src.pixels);
    return { sha256: hash.digest('hex'), height, width, channels, format: 'tensor' };
  }
  let bytes: Buffer;
  try {
    // Synchronous: a small file's async read costs more in thread-pool round trips than hashing it.
    bytes = typeof src === 'string' ? readFileSync(src) : src;
  } catch (err) {
    return { sha256: '', error: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const out: Inspected = { sha256: createHash('sha256').update(bytes).digest('hex') };
  if (!headers) return out;
  try {
    const meta = await sharp(bytes, { pages: 1 }).metadata();
    const swap = (meta.orientation ?? 1) >= 5;
    out.width = swap ? meta.height : meta.width;
    out.height = swap ? meta.width : meta.height;
    out.channels = meta.channels;
    out.format = meta.format === 'jpeg' ? 'jpg' : meta.format;
  } catch (err) {
    out.error = (err as Error).message.split('\n')[0];
  }
  if (decode && out.error === undefined) {
    try {
      await decodeImage(bytes, TINY, sample.id);
    } catch (err) {
      out.error = err instanceof ImageDecodeError ? err.reason : (err as Error).message;
    }
  }
  if (out.error !== undefined && /unsupported image format/i.test(out.error)) {
    out.error = 'not a supported image (JPEG, PNG, WebP, GIF or TIFF)';
  } else if (out.error !== undefined && /^(unknown error)?$/i.test(out.error.trim())) {
    out.error = 'corrupt or truncated image'; // libvips sometimes loses the message when decoding in parallel
  }
  return out;
}

function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const m = v.length >> 1;
  const median = v.length % 2 ? v[m] : Math.round((v[m - 1] + v[m]) / 2);
  return { min: v[0], median, max: v[v.length - 1] };
}

const tally = (map: Record<string, number>, key: string) => void (map[key] = (map[key] ?? 0) + 1);

/**
 * Checks a data plan (from a builder's `plan`, or `ImageClassificationData.plan*`) without decoding it into
 * memory: every image is read once (sha256 of its bytes, its header, and a full decode unless `decode` is false).
 * When the plan has no val split, the one training would hold out (val_split, seed) is reported.
 */
export async function checkDataset(plan: DataPlan, opts: CheckOptions = {}): Promise<CheckReport> {
  const minPerClass = opts.minPerClass ?? 5;
  const valSplit = opts.valSplit ?? 0.2;
  const seed = opts.seed ?? DEFAULT_SEED;
  const headers = opts.headers ?? true;
  const decode = headers && (opts.decode ?? true);
  const { labels } = plan;
  const given: [SplitName, Sample[] | undefined][] = [
    ['train', plan.train],
    ['val', plan.val],
    ['test', plan.test],
  ];
  const all: { sample: Sample; split: SplitName }[] = [];
  for (const [name, samples] of given) for (const sample of samples ?? []) all.push({ sample, split: name });
  const seen = await mapLimit(all, opts.concurrency ?? 8, (a) => inspect(a.sample, decode, headers));

  const undecodable: CheckReport['undecodable'] = [];
  const usable: Record<SplitName, Sample[]> = { train: [], val: [], test: [] };
  const widths: number[] = [];
  const heights: number[] = [];
  const channels: Record<string, number> = {};
  const formats: Record<string, number> = {};
  const byHash = new Map<string, CheckedFile[]>();
  // Multi-label samples are named by their label set ('cat+dog', '(no label)'), so duplicates with different sets show.
  const labelName = (s: Sample) =>
    s.targets !== undefined ? (s.targets.length ? s.targets.map((t) => labels[t]).join('+') : '(no label)') : (labels[s.label] ?? String(s.label));
  all.forEach(({ sample, split }, i) => {
    const info = seen[i];
    const named: CheckedFile = { file: sample.id, split, label: labelName(sample) };
    if (info.sha256) {
      const list = byHash.get(info.sha256) ?? [];
      list.push(named);
      byHash.set(info.sha256, list);
    }
    if (info.error !== undefined) {
      undecodable.push({ ...named, reason: info.error });
      return;
    }
    usable[split].push(sample);
    if (info.width !== undefined) widths.push(info.width);
    if (info.height !== undefined) heights.push(info.height);
    if (info.channels !== undefined) tally(channels, String(info.channels));
    if (info.format !== undefined) tally(formats, info.format);
  });

  // The val split training would take: the same stratified, seeded split of the decodable train images.
  let trainSamples = usable.train;
  let valSamples: Sample[] | undefined = plan.val === undefined ? undefined : usable.val;
  let valSource: SplitReport['source'] = 'given';
  const warnings: string[] = [];
  if (plan.val === undefined && valSplit > 0 && trainSamples.length > 0) {
    const parts = stratifiedSplit(trainSamples.map((s) => s.label), valSplit, seed);
    if (parts.val.length > 0) {
      valSamples = parts.val.map((i) => trainSamples[i]);
      trainSamples = parts.train.map((i) => trainSamples[i]);
      valSource = 'split';
    } else {
      warnings.push(`too few images per class for a validation split of ${valSplit}; training would run without validation`);
    }
  }
  const splitReport = (name: SplitName, samples: Sample[], source: SplitReport['source']): SplitReport => {
    const counts: Record<string, number> = Object.fromEntries(labels.map((l) => [l, 0]));
    for (const s of samples) {
      if (s.targets !== undefined) for (const t of s.targets) counts[labels[t]] = (counts[labels[t]] ?? 0) + 1;
      else counts[labelName(s)] = (counts[labelName(s)] ?? 0) + 1;
    }
    return { name, source, total: samples.length, counts };
  };
  const splits: SplitReport[] = [splitReport('train', trainSamples, 'given')];
  if (valSamples !== undefined) splits.push(splitReport('val', valSamples, valSource));
  if (plan.test !== undefined) splits.push(splitReport('test', usable.test, 'given'));

  const withinSplit: DuplicateGroup[] = [];
  const acrossSplits: DuplicateGroup[] = [];
  for (const [sha256, files] of byHash) {
    if (files.length < 2) continue;
    const group: DuplicateGroup = { sha256, files, conflictingLabels: new Set(files.map((f) => f.label)).size > 1 };
    (new Set(files.map((f) => f.split)).size > 1 ? acrossSplits : withinSplit).push(group);
  }

  const trainCounts = splits[0].counts;
  const smallClasses = labels.filter((l) => trainCounts[l] < minPerClass).map((label) => ({ label, count: trainCounts[label] }));
  const present = labels.filter((l) => trainCounts[l] > 0);
  let imbalance: CheckReport['imbalance'] = null;
  if (present.length >= 2) {
    const largest = present.reduce((a, b) => (trainCounts[b] > trainCounts[a] ? b : a));
    const smallest = present.reduce((a, b) => (trainCounts[b] <= trainCounts[a] ? b : a));
    imbalance = {
      largest: { label: largest, count: trainCounts[largest] },
      smallest: { label: smallest, count: trainCounts[smallest] },
      ratio: trainCounts[largest] / trainCounts[smallest],
    };
  }

  const problems: string[] = [];
  if (labels.length < 2) {
    problems.push(`${labels.length === 1 ? `only 1 class (${labels[0]})` : 'no classes'} in ${plan.labelOrigin ?? plan.origin}: a classifier needs at least 2`);
  }
  for (const s of splits) {
    if (s.total === 0) {
      const all = given.find(([n]) => n === s.name)?.[1]?.length ?? 0;
      problems.push(`the ${s.name} split is empty${all > 0 ? ` (none of its ${all} image(s) can be decoded)` : ''}`);
    }
  }
  if (labels.length >= 2 && present.length < 2 && trainCounts && splits[0].total > 0) {
    problems.push(`only 1 class (${present[0]}) has usable train images: a classifier needs at least 2`);
  }

  const s = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  if (undecodable.length) warnings.push(`${s(undecodable.length, 'image')} cannot be decoded (training skips them)`);
  if (plan.ignored.length) warnings.push(`${s(plan.ignored.length, 'non-image file')} ignored`);
  if (acrossSplits.length) {
    const n = acrossSplits.reduce((k, g) => k + g.files.length, 0);
    warnings.push(`${s(acrossSplits.length, 'image')} ${acrossSplits.length === 1 ? 'appears' : 'appear'} in more than one of train/val/test (${n} files): evaluation would see training images`);
  }
  if (withinSplit.length) {
    const extra = withinSplit.reduce((k, g) => k + g.files.length - 1, 0);
    warnings.push(`${s(extra, 'duplicate copy', 'duplicate copies')} of images inside a split`);
  }
  const conflicts = [...withinSplit, ...acrossSplits].filter((g) => g.conflictingLabels).length;
  if (conflicts) warnings.push(`${s(conflicts, 'image')} ${conflicts === 1 ? 'carries' : 'carry'} different labels in different places`);
  const missing = smallClasses.filter((c) => c.count === 0);
  if (missing.length) warnings.push(`no usable train images for ${missing.map((c) => `'${c.label}'`).join(', ')}`);
  const few = smallClasses.filter((c) => c.count > 0);
  if (few.length) warnings.push(`${s(few.length, 'class', 'classes')} with fewer than ${minPerClass} train images: ${few.map((c) => `${c.label} (${c.count})`).join(', ')}`);
  if (imbalance && imbalance.ratio > IMBALANCE_WARNING_RATIO) {
    warnings.push(
      `class imbalance ${imbalance.ratio.toFixed(1)}x: ${imbalance.largest.label} has ${imbalance.largest.count} train images, ${imbalance.smallest.label} ${imbalance.smallest.count}`,
    );
  }

  return {
    ok: problems.length === 0,
    multiLabel: plan.multiLabel ?? false,
    origin: plan.origin,
    classes: [...labels],
    splits,
    predict: plan.predictFiles.length,
    undecodable,
    ignored: [...plan.ignored],
    duplicates: { withinSplit, acrossSplits },
    minPerClass,
    smallClasses,
    images: { count: widths.length, width: spread(widths), height: spread(heights), channels, formats },
    imbalance,
    problems,
    warnings,
  };
}

/** Left-aligned first column, right-aligned numbers. */
function grid(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => '  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n');
}

const LIST_LIMIT = 20;

function listLines(items: string[], limit = LIST_LIMIT): string[] {
  const out = items.slice(0, limit).map((i) => `  ${i}`);
  if (items.length > limit) out.push(`  … and ${items.length - limit} more`);
  return out;
}

/** The report as text: a class × split table, statistics, then each finding with the files it names. */
export function checkReportText(r: CheckReport, show: (file: string) => string = (f) => f): string {
  const lines: string[] = [];
  const head = r.splits.map((s) => `${s.name} ${s.total}${s.source === 'split' ? ' (held out of train)' : ''}`);
  if (r.predict) head.push(`predict ${r.predict}`);
  const kinds = r.multiLabel ? `${r.classes.length} labels (multi-label; counts are images carrying each label)` : `${r.classes.length} class${r.classes.length === 1 ? '' : 'es'}`;
  lines.push(`dataset check of ${r.origin}: ${kinds} · ${head.join(' · ')}`, '');
  const rows = [[r.multiLabel ? 'label' : 'class', ...r.splits.map((s) => s.name)]];
  for (const label of r.classes) rows.push([label, ...r.splits.map((s) => String(s.counts[label] ?? 0))]);
  rows.push([r.multiLabel ? 'images' : 'total', ...r.splits.map((s) => String(s.total))]);
  lines.push(grid(rows), '');
  const sp = (x: Spread | null) => (x ? `${x.min}/${x.median}/${x.max}` : 'n/a');
  const channelNames: Record<string, string> = { '1': 'gray', '2': 'gray+alpha', '3': 'RGB', '4': 'RGBA' };
  const ch = Object.entries(r.images.channels).map(([k, n]) => `${channelNames[k] ?? `${k}-channel`} ${n}`).join(', ');
  const fm = Object.entries(r.images.formats).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  lines.push(`images: ${r.images.count} · width ${sp(r.images.width)} · height ${sp(r.images.height)} (min/median/max px) · channels: ${ch || 'n/a'} · formats: ${fm || 'n/a'}`);
  if (r.imbalance) {
    const i = r.imbalance;
    lines.push(`imbalance (train): largest ${i.largest.label} ${i.largest.count} / smallest ${i.smallest.label} ${i.smallest.count} = ${i.ratio.toFixed(1)}x`);
  }
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push('', title, ...listLines(items));
  };
  section(`undecodable images (${r.undecodable.length}; skipped when training):`, r.undecodable.map((u) => `${show(u.file)}: ${u.reason}`));
  section(`non-image files ignored (${r.ignored.length}):`, r.ignored.map(show));
  const dup = (g: DuplicateGroup) =>
    g.files.map((f) => `${show(f.file)} [${f.split}${g.conflictingLabels ? `, ${f.label}` : ''}]`).join(' = ') + (g.conflictingLabels ? ' (different labels)' : '');
  section(`duplicate images across train/val/test (${r.duplicates.acrossSplits.length}):`, r.duplicates.acrossSplits.map(dup));
  section(`duplicate images inside a split (${r.duplicates.withinSplit.length}):`, r.duplicates.withinSplit.map(dup));
  section(`classes with fewer than ${r.minPerClass} train images (${r.smallClasses.length}):`, r.smallClasses.map((c) => `${c.label}: ${c.count}`));
  section(`problems (training would be meaningless):`, r.problems);
  lines.push('', r.ok ? `check passed${r.warnings.length ? ` with ${r.warnings.length} warning(s)` : ''}` : `check failed: ${r.problems.length} problem(s)`);
  for (const w of r.warnings) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/** A few lines for the start of a training run: counts, then one line per warning or problem. */
export function briefCheckLines(r: CheckReport): string[] {
  const counts = r.splits.map((s) => `${s.name} ${s.total}`).join(' · ');
  const out = [`check: ${r.classes.length} ${r.multiLabel ? 'labels (multi-label)' : 'classes'} · ${counts} · ${r.ok && r.warnings.length === 0 ? 'no problems found' : `${r.problems.length + r.warnings.length} finding(s); details: --check`}`];
  for (const p of r.problems) out.push(`check: problem: ${p}`);
  for (const w of r.warnings) out.push(`check: warning: ${w}`);
  return out;
}

/** Runs the check a recipe's data describes (the builder's plan; nothing is trained). */
export async function checkRecipeData(
  recipe: Recipe,
  io: CliIO,
  opts: Pick<CheckOptions, 'decode' | 'headers'> & { collectWarnings?: boolean } = {},
): Promise<CheckReport> {
  const options = dataOptions(recipe, io);
  // Warnings met while planning (a symlink loop, an empty class folder left out) become findings of the report.
  const planWarnings: string[] = [];
  if (opts.collectWarnings) options.onWarning = (m: string) => void planWarnings.push(m);
  const plan = await builders.get(recipe.data.builder).plan(recipe.data, options, io.cwd);
  const report = await checkDataset(plan, {
    decode: opts.decode,
    headers: opts.headers,
    minPerClass: recipe.data.min_images_per_class,
    valSplit: recipe.data.val_split,
    seed: recipe.trainer.seed,
  });
  report.warnings.unshift(...planWarnings);
  return report;
}

/** The report of a check that could not even read the data (the error is its one problem). */
function failedReport(problem: string): CheckReport {
  return {
    ok: false,
    multiLabel: false,
    origin: '',
    classes: [],
    splits: [],
    predict: 0,
    undecodable: [],
    ignored: [],
    duplicates: { withinSplit: [], acrossSplits: [] },
    minPerClass: 0,
    smallClasses: [],
    images: { count: 0, width: null, height: null, channels: {}, formats: {} },
    imbalance: null,
    problems: [problem],
    warnings: [],
  };
}

/** A path as messages show it: relative to the working directory when inside it. */
function shownFrom(cwd: string): (file: string) => string {
  return (file) => {
    const rel = path.relative(cwd, file);
    return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
  };
}

/**
 * `flash image_classification … --check [--json]`: prints the report (a table, or JSON on stdout) and fails with
 * exit code 1 when a problem makes training meaningless.
 */
export async function checkCommand(args: { recipe: Recipe; io: CliIO; json?: boolean }): Promise<CheckReport> {
  const { recipe, io } = args;
  if (recipeHasNoData(recipe.data) && recipe.data.builder === 'from_folders') {
    io.err('no data given: checking the bundled Fashion-MNIST demo set (data/demo/fashion_mnist)\n');
  }
  let report: CheckReport;
  try {
    report = await checkRecipeData(recipe, io, { collectWarnings: true });
  } catch (err) {
    // --json always prints a report, so a script reading stdout sees why (exit code 1 as for any failed check).
    if (!args.json || !(err instanceof FlashUserError)) throw err;
    io.out(`${JSON.stringify(failedReport(err.message), null, 2)}\n`);
    throw new FlashUserError(`dataset check failed: ${err.message}`, 1);
  }
  io.out(args.json ? `${JSON.stringify(report, null, 2)}\n` : checkReportText(report, shownFrom(io.cwd)));
  if (!report.ok) throw new FlashUserError(`dataset check failed: ${report.problems.join('; ')}`, 1);
  return report;
}

/**
 * The brief check at the start of a training run: file bytes are only hashed (undecodable files are reported by
 * the data module as it decodes), one line of counts and one per finding, written with `say`. Never fails the run itself:
 * the data module raises the fatal problems as it builds.
 */
export async function briefCheck(recipe: Recipe, io: CliIO, say: (line: string) => void = (l) => io.out(`${l}\n`)): Promise<CheckReport | undefined> {
  let report: CheckReport;
  try {
    // Warnings are left to the data module, which repeats them as it builds; progress notes (downloads) pass.
    const quiet = { ...io, err: (t: string) => void (t.startsWith('warning: ') ? undefined : io.err(t)) };
    report = await checkRecipeData(recipe, quiet, { decode: false, headers: false });
  } catch (err) {
    if (err instanceof FlashUserError) return undefined; // building the data reports it, with the same message
    throw err;
  }
  for (const line of briefCheckLines(report)) say(line);
  return report;
}

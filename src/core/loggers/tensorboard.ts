import { access, appendFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fsUserError } from '../io/atomic.js';
import type { Callback, FitContext, Logger } from '../trainer/types.js';
import { flattenParams } from './jsonl.js';
import { tbType } from './tensorboard/schema.js';
import { frameRecord } from './tensorboard/tfrecord.js';

export { TENSORBOARD_PROTO, tensorboardRoot, tbType } from './tensorboard/schema.js';
export { frameRecord, maskedCrc32c, readRecords } from './tensorboard/tfrecord.js';

/** Width, height and TensorBoard colorspace (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA) from a PNG's IHDR chunk. */
export function pngInfo(png: Uint8Array): { width: number; height: number; colorspace: number } {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.length < 29 || sig.some((b, i) => png[i] !== b)) throw new Error('not a PNG image');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const colourType = png[25];
  const colorspace = { 0: 1, 4: 2, 2: 3, 3: 3, 6: 4 }[colourType] ?? 3;
  return { width: view.getUint32(16), height: view.getUint32(20), colorspace };
}

type Status = 'success' | 'interrupted' | 'failed';

/**
 * Writes TensorBoard event files into the run folder (`events.out.tfevents.<time>.<host>`), so
 * `tensorboard --logdir runs` shows every run: a scalar per metric per epoch, images (confusion matrix, sample
 * predictions) and the hyperparameters, both as a text table and for the HParams dashboard. Each event is a
 * protobufjs-encoded `Event` in a TFRecord frame, appended as it happens; a resumed run starts a new file.
 */
export class TensorBoardLogger implements Logger {
  readonly name = 'tensorboard';
  private file?: string;
  private queue: Promise<void> = Promise.resolve();
  private lastStep = 0;
  /** Batches per epoch, once known (StepMetricsCallback tells it): epoch n's scalars go at step n × this. */
  private stepsPerEpoch?: number;

  constructor(readonly dir: string) {}

  /** The event file being written (known after the first event). */
  get path(): string | undefined {
    return this.file;
  }

  private async open(): Promise<string> {
    if (this.file) return this.file;
    await mkdir(this.dir, { recursive: true });
    const base = `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`;
    let name = base;
    for (let n = 1; await exists(join(this.dir, name)); n++) name = `${base}.${n}`;
    const file = join(this.dir, name);
    await appendFile(file, encodeEvent({ wall_time: Date.now() / 1000, step: 0, file_version: 'brain.Event:2' }));
    this.file = file;
    return file;
  }

  private emit(step: number, values: Record<string, unknown>[]): Promise<void> {
    const record = encodeEvent({ wall_time: Date.now() / 1000, step, summary: { value: values } });
    this.queue = this.queue.then(async () => {
      const file = await this.open().catch((err) => {
        throw fsUserError(err, this.dir, 'write TensorBoard events to');
      });
      await appendFile(file, record).catch((err) => {
        throw fsUserError(err, file, 'write');
      });
    });
    return this.queue;
  }

  logHyperparams(params: Record<string, unknown>): Promise<void> {
    const flat = flattenParams(params);
    const rows = Object.entries(flat).map(([k, v]) => `| ${k} | ${String(v).replace(/\|/g, '\\|')} |`);
    const markdown = ['| hyperparameter | value |', '|---|---|', ...rows].join('\n');
    const hparams: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(flat)) {
      if (typeof v === 'number') hparams[k] = { number_value: v };
      else if (typeof v === 'boolean') hparams[k] = { bool_value: v };
      // An unset value (null, e.g. an auto-chosen learning rate) is left out: stored as 'null' it reads as a value.
      else if (v !== null && v !== undefined) hparams[k] = { string_value: String(v) };
    }
    const start = tbType('HParamsPluginData').encode(
      tbType('HParamsPluginData').fromObject({ version: 0, session_start_info: { hparams, start_time_secs: Date.now() / 1000 } }),
    ).finish();
    return this.emit(0, [textValue('hyperparameters', markdown), hparamsValue('_hparams_/session_start_info', start)]);
  }

  /** Sets the batches per epoch, so epoch-level values sit on the same (global step) axis as per-batch ones. */
  setStepsPerEpoch(batches: number): void {
    if (Number.isInteger(batches) && batches > 0) this.stepsPerEpoch = batches;
  }

  /**
   * The global step at the end of (1-based) epoch `epoch`, as Lightning logs epoch metrics: epoch × batches per
   * epoch, the step of that epoch's last `train_loss_step`. Until the batch count is known, the epoch itself.
   */
  private epochStep(epoch: number): number {
    return this.stepsPerEpoch ? epoch * this.stepsPerEpoch : epoch;
  }

  logMetrics(metrics: Record<string, number>, step: { epoch: number; step?: number }): Promise<void> {
    const s = step.step ?? this.epochStep(step.epoch);
    this.lastStep = Math.max(this.lastStep, s);
    return this.emit(s, scalars(metrics));
  }

  /** Per-batch scalars (`train_loss_step`) at a global step; see `StepMetricsCallback`. */
  logStep(metrics: Record<string, number>, step: number, _epoch?: number): Promise<void> {
    this.lastStep = Math.max(this.lastStep, step);
    return this.emit(step, scalars(metrics));
  }

  /** `step` is an epoch (run-level images: confusion matrix, sample predictions), put on the global step axis. */
  logImage(name: string, png: Buffer, step: number): Promise<void> {
    const info = pngInfo(png);
    return this.emit(this.epochStep(step), [{ tag: name, image: { ...info, encoded_image_string: png } }]);
  }

  /** Artifacts appear as a text entry naming the file (TensorBoard has no file store). */
  logArtifact(name: string, path: string): Promise<void> {
    return this.emit(this.lastStep, [textValue(`artifacts/${name}`, path)]);
  }

  finalize(status: Status): Promise<void> {
    const code = { success: 'STATUS_SUCCESS', failed: 'STATUS_FAILURE', interrupted: 'STATUS_UNKNOWN' }[status];
    const end = tbType('HParamsPluginData').encode(
      tbType('HParamsPluginData').fromObject({ version: 0, session_end_info: { status: code, end_time_secs: Date.now() / 1000 } }),
    ).finish();
    return this.emit(this.lastStep, [hparamsValue('_hparams_/session_end_info', end)]);
  }
}

/** Scalar summary values: numbers only (a null metric, e.g. no val split, is skipped, not stored as "null"). */
function scalars(metrics: Record<string, unknown>): { tag: string; simple_value: number }[] {
  return Object.entries(metrics)
    .filter((e): e is [string, number] => e[0] !== 'epoch' && typeof e[1] === 'number')
    .map(([tag, simple_value]) => ({ tag, simple_value }));
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Serializes an `Event` (plain object, field names as in event.proto) into one TFRecord. */
export function encodeEvent(event: Record<string, unknown>): Buffer {
  const Event = tbType('Event');
  return frameRecord(Event.encode(Event.fromObject(event)).finish());
}

/** A text-plugin summary value: a scalar DT_STRING tensor holding markdown. */
function textValue(tag: string, markdown: string): Record<string, unknown> {
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'text' }, data_class: 'DATA_CLASS_TENSOR' },
    tensor: { dtype: 'DT_STRING', tensor_shape: {}, string_val: [Buffer.from(markdown, 'utf8')] },
  };
}

/** An hparams-plugin summary value: the plugin data is all that matters; the tensor is a placeholder. */
function hparamsValue(tag: string, content: Uint8Array): Record<string, unknown> {
  return {
    tag,
    metadata: { plugin_data: { plugin_name: 'hparams', content } },
    tensor: { dtype: 'DT_FLOAT', tensor_shape: {}, float_val: [0] },
  };
}

/** A logger that also takes per-batch scalars (tensorboard and jsonl do; csv keeps one row per epoch). */
export interface StepLogger extends Logger {
  /** `epoch` is 1-based: the epoch the step belongs to. */
  logStep(metrics: Record<string, number>, step: number, epoch?: number): void | Promise<void>;
  /** Batches per epoch, before each epoch: lets a logger log epoch values at the global step. */
  setStepsPerEpoch?(batches: number): void;
}

const isStepLogger = (l: Logger): l is StepLogger => typeof (l as Partial<StepLogger>).logStep === 'function';

/**
 * Sends each training batch's loss as `train_loss_step` at the global step (epoch × batches per epoch + batch) to
 * the loggers that take per-step scalars, every `every` batches. Epoch metrics still go through `logMetrics`.
 */
export class StepMetricsCallback implements Callback {
  private readonly targets: StepLogger[];

  constructor(
    loggers: Logger[],
    private readonly every = 1,
  ) {
    this.targets = loggers.filter(isStepLogger);
  }

  /** Tells loggers that place epoch values on the step axis (TensorBoard) how many steps an epoch has. */
  onEpochStart(ctx: FitContext): void {
    for (const l of this.targets) l.setStepsPerEpoch?.(ctx.batchesPerEpoch);
  }

  async onBatchEnd(ctx: FitContext, batch: number, logs: { loss: number; size: number; lr?: number }): Promise<void> {
    if (this.targets.length === 0 || (batch + 1) % this.every !== 0) return;
    const step = ctx.epoch * ctx.batchesPerEpoch + batch + 1;
    // The scheduled learning rate of the step, as Lightning's LearningRateMonitor logs it.
    const values: Record<string, number> = { train_loss_step: logs.loss };
    if (logs.lr !== undefined) values.lr_step = logs.lr;
    for (const l of this.targets) await l.logStep(values, step, ctx.epoch + 1);
  }
}

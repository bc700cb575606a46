import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../io/layers_model.js';

type Grads = tf.NamedTensorMap | NamedTensor[];

/** A slot of per-variable optimizer state as tfjs optimizers keep it (`accumulatedFirstMoment[i]`, …). */
interface StateSlot {
  originalName: string;
  variable: tf.Variable;
}

function isSlotArray(value: unknown): value is (StateSlot | undefined)[] {
  if (!Array.isArray(value) || value.length === 0) return false;
  return value.every((s) => s == null || (typeof s === 'object' && typeof (s as StateSlot).originalName === 'string' && (s as StateSlot).variable instanceof tf.Variable));
}

/** `conv1/kernel/m` → `conv1/kernel`. */
const variableOf = (slot: StateSlot): string => slot.originalName.slice(0, slot.originalName.lastIndexOf('/'));

/**
 * tfjs optimizers keep per-variable state in arrays indexed by the variable's position in the gradient list, so
 * a new trainable set would pair state with the wrong variables. This re-indexes every such array of `inner` by
 * variable name to `names`: kept variables keep their state (Adam moments, momentum…), new ones start from
 * zero (the optimizer creates their slot lazily), and state of variables no longer trained is disposed.
 * Returns how many variables kept their state.
 */
export function remapOptimizerState(inner: tf.Optimizer, names: string[]): number {
  let kept = 0;
  const record = inner as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (!isSlotArray(value)) continue;
    const byName = new Map<string, StateSlot>();
    for (const slot of value) if (slot) byName.set(variableOf(slot), slot);
    const next = names.map((n) => byName.get(n));
    const used = new Set(next.filter((s): s is StateSlot => s !== undefined));
    for (const slot of byName.values()) if (!used.has(slot)) slot.variable.dispose();
    record[key] = next;
    kept = Math.max(kept, used.size);
  }
  return kept;
}

/**
 * After `setWeights` (a resume), the restored state is in the saved run's variable order, under the saved
 * run's variable names, which a reloaded model does not share. Where a state array has one slot per variable
 * now trained, its slots are adopted by position (tfjs's own rule) and renamed to the current variables; an
 * array of another length (a resume at a phase boundary) is re-indexed by name instead.
 */
export function adoptOptimizerState(inner: tf.Optimizer, names: string[]): void {
  const record = inner as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (!isSlotArray(value)) continue;
    if (value.length !== names.length) continue;
    value.forEach((slot, i) => {
      if (slot) slot.originalName = `${names[i]}/${slot.originalName.slice(slot.originalName.lastIndexOf('/') + 1)}`;
    });
  }
  remapOptimizerState(inner, names);
}

export interface PhaseOptimizerOptions {
  /** Variable names whose updates are multiplied by `lrMult` (the backbone's, for `backbone_lr_mult`). */
  scaled?: ReadonlySet<string>;
  lrMult?: number;
  /**
   * Called when the trainer disposes this optimizer at a phase change: return true to keep `inner` (and its
   * state) alive for the next phase's optimizer instead of disposing it.
   */
  handOver?: (inner: tf.Optimizer) => boolean;
}

/**
 * The optimizer of one finetuning phase, wrapping a plain tfjs optimizer:
 * - state carried over between phases: the next phase wraps the same inner optimizer, whose per-variable state
 *   is re-indexed by variable name when the trained set changes (`remapOptimizerState`);
 * - discriminative learning rates: the update of every `scaled` variable is multiplied by `lrMult`
 *   (w ← w_old + lrMult·(w_new − w_old)). For SGD, momentum, RMSProp, Adam and AdamW the update is
 *   proportional to the learning rate, so this is exactly the backbone's learning rate × lrMult. (Scaling the
 *   gradients instead would do nothing under Adam, which is invariant to gradient scale.)
 * getWeights/setWeights pass through, so checkpoints and --resume see the inner optimizer's state.
 */
export class PhaseOptimizer extends tf.Optimizer {
  static className = 'PhaseOptimizer';
  private readonly scaled: ReadonlySet<string>;
  private readonly lrMult: number;
  private lastNames = '';
  private adopt = false;

  constructor(readonly inner: tf.Optimizer, private readonly options: PhaseOptimizerOptions = {}) {
    super();
    this.scaled = options.scaled ?? new Set();
    this.lrMult = options.lrMult ?? 1;
  }

  override getClassName(): string {
    return this.inner.getClassName();
  }

  override get iterations(): number {
    return this.inner.iterations;
  }

  override applyGradients(variableGradients: Grads): void {
    const names = Array.isArray(variableGradients) ? variableGradients.map((g) => g.name) : Object.keys(variableGradients);
    const key = names.join('\n');
    if (key !== this.lastNames) {
      if (this.adopt) adoptOptimizerState(this.inner, names);
      else remapOptimizerState(this.inner, names);
      this.adopt = false;
      this.lastNames = key;
    }
    const scale = this.lrMult !== 1 ? names.filter((n) => this.scaled.has(n)) : [];
    if (scale.length === 0) {
      this.inner.applyGradients(variableGradients);
      return;
    }
    const vars = tf.engine().registeredVariables;
    const before = scale.map((n) => tf.clone(vars[n]));
    this.inner.applyGradients(variableGradients);
    tf.tidy(() => {
      scale.forEach((n, i) => {
        const v = vars[n];
        v.assign(tf.add(before[i], tf.mul(tf.sub(v, before[i]), this.lrMult)));
      });
    });
    tf.dispose(before);
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return (await this.inner.getWeights()) as NamedTensor[];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    await this.inner.setWeights(weights);
    this.lastNames = '';
    this.adopt = true;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.inner.getConfig();
  }

  override dispose(): void {
    if (this.options.handOver?.(this.inner)) return;
    this.inner.dispose();
  }
}

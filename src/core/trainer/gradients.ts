/**
 * Gradients of a scalar with respect to variables, as tfjs's `engine.gradients` computes them, but freeing memory
 * as the backward pass goes. tfjs keeps every node's output gradient and every tensor saved for the backward pass
 * until the whole pass ends (tfjs-core tape.ts), so a training step peaks at roughly the forward activations plus
 * all their gradients; here a node's output gradients and saved tensors are disposed as soon as the node has been
 * processed (each has exactly one consumer: that node), and a partial sum once it has been added. Same kernels,
 * same order, same numbers — only the lifetimes differ (gradients.test.ts compares both bit for bit).
 *
 * It drives the engine through members tfjs declares private (startTape/endTape/scopedRun, state.activeTape); the
 * tfjs version is pinned in package-lock.json and the tests run this path on every build.
 */
import * as tf from '@tensorflow/tfjs';

/** A recorded op on tfjs's tape (tfjs-core's TapeNode, which its public types don't export). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The engine members this module uses. */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

/** The nodes on a path from some x to y, each with only the inputs that depend on an x (tfjs's own pruning rule). */
function nodesFromXToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set(xs.map((x) => x.id));
  const reachedFromX = new Set<number>();
  for (const node of tape) {
    if (!Object.values(node.inputs).some((t) => fromX.has(t.id))) continue;
    reachedFromX.add(node.id);
    for (const o of node.outputs) fromX.add(o.id);
  }
  const toY = new Set([y.id]);
  const leadsToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (!node.outputs.some((o) => toY.has(o.id))) continue;
    leadsToY.add(node.id);
    for (const t of Object.values(node.inputs)) toY.add(t.id);
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!reachedFromX.has(node.id) || !leadsToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

/**
 * `f()`'s value and its gradients with respect to `xs` (null where a variable doesn't reach the value), like
 * `tf.engine().gradients(f, xs, undefined, true)`. Call it where tfjs would run it: inside a tidy, first order only.
 */
export function gradientsFreeingEarly(f: () => tf.Scalar, xs: tf.Tensor[]): { value: tf.Scalar; grads: (tf.Tensor | null)[] } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth !== 0) throw new Error('gradientsFreeingEarly computes first-order gradients only');
  const y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy('forward', f));
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXToY(tape, xs, y);
  return engine.tidy('backward', () => {
    const gradOf = new Map<number, tf.Tensor>();
    // How many entries of gradOf hold a tensor: one tensor may stand for several (a gradient passed through as is).
    const holders = new Map<tf.Tensor, number>();
    const hold = (t: tf.Tensor, d: number) => holders.set(t, (holders.get(t) ?? 0) + d);
    const release = (t: tf.Tensor) => {
      hold(t, -1);
      if (!holders.get(t)) t.dispose();
    };
    const ones = tf.onesLike(y);
    gradOf.set(y.id, ones);
    hold(ones, 1);
    const wanted = new Set(xs.map((x) => x.id));
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const dxs = node.gradient(node.outputs.map((o) => gradOf.get(o.id) ?? null));
      for (const [name, x] of Object.entries(node.inputs)) {
        if (!(name in dxs)) throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(dxs)}.`);
        const dx = engine.tidy(() => dxs[name]());
        if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
        }
        const prev = gradOf.get(x.id);
        if (prev === undefined) {
          gradOf.set(x.id, dx);
          hold(dx, 1);
          continue;
        }
        const sum = tf.add(prev, dx);
        gradOf.set(x.id, sum);
        hold(sum, 1);
        release(prev);
        if (!holders.get(dx)) dx.dispose();
      }
      // This node was the only consumer of its outputs' gradients and of what it saved for the backward pass.
      for (const o of node.outputs) {
        const g = gradOf.get(o.id);
        if (g === undefined || wanted.has(o.id)) continue;
        gradOf.delete(o.id);
        release(g);
      }
      for (const t of node.saved ?? []) if (!holders.get(t)) t.dispose();
    }
    const grads = xs.map((x) => gradOf.get(x.id) ?? null);
    for (const node of tape) for (const t of node.saved ?? []) if (!holders.get(t)) t.dispose();
    engine.state.activeTape = null;
    return { value: y, grads } as unknown as tf.TensorContainer;
  }) as unknown as { value: tf.Scalar; grads: (tf.Tensor | null)[] };
}

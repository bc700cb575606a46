/**
 * The conv loops (im2col/col2im + the packed GEMM), written against a `Heap` so the same code runs on the
 * main thread (tfjs heap, in place) and is recorded for a worker thread (shared memory, see threads/).
 * Work is given as a range of output rows (row m = one output pixel of one image, M = B*OH*OW rows), so a
 * caller can split an op between threads; scratch is chunked so it stays bounded.
 */
import { SGEMM_WORKSPACE_FLOATS, type Heap } from './native.js';

/** Largest im2col chunk, in floats (8 MiB). */
const COL_CHUNK_FLOATS = 1 << 21;

export interface ConvGeom {
  B: number; H: number; W: number; Ci: number; OH: number; OW: number; Co: number;
  KH: number; KW: number; sh: number; sw: number; dh: number; dw: number; pt: number; pl: number;
}

export function isPointwise(g: ConvGeom): boolean {
  return g.KH === 1 && g.KW === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && g.OH === g.H && g.OW === g.W;
}

/** Output rows (B*OH*OW) and the GEMM depth (KH*KW*Ci). */
export function convDims(g: ConvGeom): { M: number; K: number } {
  return { M: g.B * g.OH * g.OW, K: g.KH * g.KW * g.Ci };
}

function chunkRows(K: number, M: number): number {
  return Math.max(64, Math.min(M, Math.floor(COL_CHUNK_FLOATS / Math.max(1, K))));
}

/**
 * Calls `fn(col, c0, c1, ws)` for rows [m0, m1) of im2col(x) in chunks that fit the scratch: `col` holds rows
 * [c0, c1), `ws` is the GEMM workspace.
 */
function forIm2colChunks(h: Heap, g: ConvGeom, xPtr: number, m0: number, m1: number,
  fn: (col: number, c0: number, c1: number, ws: number) => void): void {
  const { K } = convDims(g);
  const rows = chunkRows(K, m1 - m0);
  h.scratch(SGEMM_WORKSPACE_FLOATS + rows * K, (ws) => {
    const col = ws + SGEMM_WORKSPACE_FLOATS * 4;
    for (let c0 = m0; c0 < m1; c0 += rows) {
      const c1 = Math.min(m1, c0 + rows);
      h.e.im2col(xPtr, g.H, g.W, g.Ci, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, c0, c1, col);
      fn(col, c0, c1, ws);
    }
  });
}

/**
 * Rows [m0, m1) of y[M, Co] = im2col(x) · W (+ bias, activation). `yPtr` points at row m0; `xPtr` at image 0
 * of the geometry `g` (a caller passes a sub-batch geometry to work on a slice of the images).
 */
export function convForwardRows(h: Heap, g: ConvGeom, xPtr: number, wPtr: number, yPtr: number, biasPtr: number,
  act: number, m0: number, m1: number): void {
  const { K } = convDims(g);
  const e = h.e;
  if (m1 <= m0) return;
  if (isPointwise(g)) {
    h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(m1 - m0, g.Co, K, xPtr + m0 * K * 4, K, 1, wPtr, g.Co, 1, yPtr, g.Co, 0, ws));
  } else {
    forIm2colChunks(h, g, xPtr, m0, m1, (col, c0, c1, ws) =>
      e.sgemm(c1 - c0, g.Co, K, col, K, 1, wPtr, g.Co, 1, yPtr + (c0 - m0) * g.Co * 4, g.Co, 0, ws));
  }
  if (biasPtr || act) e.bias_act(yPtr, m1 - m0, g.Co, biasPtr, act);
}

/**
 * dW[KH*KW*Ci, Co] = Σ over rows [m0, m1) of im2col(x)ᵀ · dy (zero for an empty range). `dyPtr` points at row
 * m0, `xPtr` at image 0 of `g`.
 */
export function convFilterGradRows(h: Heap, g: ConvGeom, xPtr: number, dyPtr: number, dwPtr: number, m0: number, m1: number): void {
  const { K } = convDims(g);
  const e = h.e;
  if (m1 <= m0) {
    e.fill_zero(dwPtr, K * g.Co);
    return;
  }
  if (isPointwise(g)) {
    h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(K, g.Co, m1 - m0, xPtr + m0 * K * 4, 1, K, dyPtr, g.Co, 1, dwPtr, g.Co, 0, ws));
    return;
  }
  // The first chunk writes dW, the others add to it.
  forIm2colChunks(h, g, xPtr, m0, m1, (col, c0, c1, ws) =>
    e.sgemm(K, g.Co, c1 - c0, col, 1, K, dyPtr + (c0 - m0) * g.Co * 4, g.Co, 1, dwPtr, g.Co, c0 > m0 ? 1 : 0, ws));
}

/** dx[B, H, W, Ci] = col2im(dy · Wᵀ) for all images of `g` (col2im overlaps rows, so callers split by image). */
export function convInputGradImages(h: Heap, g: ConvGeom, dyPtr: number, wPtr: number, dxPtr: number): void {
  const { M, K } = convDims(g);
  const e = h.e;
  if (isPointwise(g)) {
    h.scratch(SGEMM_WORKSPACE_FLOATS, (ws) => e.sgemm(M, K, g.Co, dyPtr, g.Co, 1, wPtr, 1, g.Co, dxPtr, K, 0, ws));
    return;
  }
  e.fill_zero(dxPtr, g.B * g.H * g.W * g.Ci);
  if (M === 0) return;
  const rows = chunkRows(K, M);
  h.scratch(SGEMM_WORKSPACE_FLOATS + rows * K, (ws) => {
    const col = ws + SGEMM_WORKSPACE_FLOATS * 4;
    for (let m0 = 0; m0 < M; m0 += rows) {
      const m1 = Math.min(M, m0 + rows);
      e.sgemm(m1 - m0, K, g.Co, dyPtr + m0 * g.Co * 4, g.Co, 1, wPtr, 1, g.Co, col, K, 0, ws);
      e.col2im(col, g.H, g.W, g.Ci, g.OH, g.OW, g.KH, g.KW, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, m0, m1, dxPtr);
    }
  });
}

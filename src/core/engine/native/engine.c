/*
 * flash engine: training kernels for TensorFlow.js's wasm backend, compiled to wasm32 + SIMD128.
 *
 * The module imports the tfjs-backend-wasm heap (env.memory), so every pointer below is an address in
 * that heap: tensors are read and written in place, scratch space comes from the backend's malloc.
 * Rules that keep this safe: no static data, no stack memory (only scalar/v128 locals), no libc.
 * Layout everywhere is NHWC, filters [KH, KW, Cin, Cout] (conv) or [KH, KW, C, mult] (depthwise).
 * Rebuild with ./build.sh.
 */
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))
typedef float f32;

/* c + a*b. Built with -mrelaxed-simd (engine_relaxed*.wasm) it is one f32x4.relaxed_madd, a fused multiply-add
 * where the CPU has FMA (one rounding instead of two: as close to the float32 reference, and fewer instructions
 * in the GEMM micro-kernel); otherwise a multiply then an add. Clang >= 16 names the builtin relaxed_madd;
 * clang 14/15 call it fma and emit the relaxed-simd prototype's opcode, which build.sh rewrites to the
 * standard one (see patch_relaxed.mjs). Both compute a*b + c. */
#if defined(__wasm_relaxed_simd__) && __has_builtin(__builtin_wasm_relaxed_madd_f32x4)
#define MADD(c, a, b) __builtin_wasm_relaxed_madd_f32x4((a), (b), (c))
#elif defined(__wasm_relaxed_simd__) && __has_builtin(__builtin_wasm_fma_f32x4)
#define MADD(c, a, b) __builtin_wasm_fma_f32x4((a), (b), (c))
#else
#define MADD(c, a, b) wasm_f32x4_add((c), wasm_f32x4_mul((a), (b)))
#endif

/* ------------------------------------------------------------------------------------------------
 * SGEMM  C[M,N] (=|+=) A[M,K] * B[K,N], any strides (so transposes are free), GotoBLAS blocking,
 * 4x8 register micro-kernel on packed panels.
 * A(i,p) = A[i*sai + p*sap]; B(p,j) = B[p*sbp + j*sbj]; C(i,j) = C[i*ldc + j].
 * ws must hold KC*NC + MC*KC + 32 floats.
 * ---------------------------------------------------------------------------------------------- */
#define MR 4
#define NR 8
#define KC 256
#define MC 64
#define NC 512

static void pack_a(int mc, int kc, const f32 *A, int sai, int sap, f32 *__restrict Ap) {
  for (int i = 0; i < mc; i += MR) {
    int rows = mc - i < MR ? mc - i : MR;
    const f32 *a = A + i * sai;
    if (rows == MR && sai == 1) {
      for (int p = 0; p < kc; p++) {
        wasm_v128_store(Ap, wasm_v128_load(a + p * sap));
        Ap += MR;
      }
    } else if (rows == MR && sap == 1) {
      /* row-major A: transpose 4x4 blocks in registers */
      int p = 0;
      for (; p + 4 <= kc; p += 4) {
        v128_t r0 = wasm_v128_load(a + p), r1 = wasm_v128_load(a + sai + p);
        v128_t r2 = wasm_v128_load(a + 2 * sai + p), r3 = wasm_v128_load(a + 3 * sai + p);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(Ap, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
        wasm_v128_store(Ap + 4, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
        wasm_v128_store(Ap + 8, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
        wasm_v128_store(Ap + 12, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
        Ap += 4 * MR;
      }
      for (; p < kc; p++) {
        Ap[0] = a[p]; Ap[1] = a[sai + p]; Ap[2] = a[2 * sai + p]; Ap[3] = a[3 * sai + p];
        Ap += MR;
      }
    } else if (rows == MR) {
      for (int p = 0; p < kc; p++) {
        const f32 *ap = a + p * sap;
        Ap[0] = ap[0]; Ap[1] = ap[sai]; Ap[2] = ap[2 * sai]; Ap[3] = ap[3 * sai];
        Ap += MR;
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) Ap[r] = r < rows ? a[r * sai + p * sap] : 0.0f;
        Ap += MR;
      }
    }
  }
}

static void pack_b(int kc, int nc, const f32 *B, int sbp, int sbj, f32 *__restrict Bp) {
  for (int j = 0; j < nc; j += NR) {
    int cols = nc - j < NR ? nc - j : NR;
    const f32 *b = B + j * sbj;
    if (cols == NR && sbj == 1) {
      for (int p = 0; p < kc; p++) {
        const f32 *bp = b + p * sbp;
        wasm_v128_store(Bp, wasm_v128_load(bp));
        wasm_v128_store(Bp + 4, wasm_v128_load(bp + 4));
        Bp += NR;
      }
    } else if (cols == NR && sbp == 1) {
      /* column-major B (a transposed operand): transpose 4x4 blocks in registers */
      int p = 0;
      for (; p + 4 <= kc; p += 4) {
        for (int h = 0; h < 2; h++) {
          const f32 *bh = b + 4 * h * sbj + p;
          v128_t r0 = wasm_v128_load(bh), r1 = wasm_v128_load(bh + sbj);
          v128_t r2 = wasm_v128_load(bh + 2 * sbj), r3 = wasm_v128_load(bh + 3 * sbj);
          v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
          v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
          f32 *o = Bp + 4 * h;
          wasm_v128_store(o, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
          wasm_v128_store(o + NR, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
          wasm_v128_store(o + 2 * NR, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
          wasm_v128_store(o + 3 * NR, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
        }
        Bp += 4 * NR;
      }
      for (; p < kc; p++) {
        for (int c = 0; c < NR; c++) Bp[c] = b[p + c * sbj];
        Bp += NR;
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int c = 0; c < NR; c++) Bp[c] = c < cols ? b[p * sbp + c * sbj] : 0.0f;
        Bp += NR;
      }
    }
  }
}

/* acc(4x8) = (load ? C : 0) + Ap * Bp; writes to C (ldc) */
static inline void micro_4x8(int kc, const f32 *__restrict Ap, const f32 *__restrict Bp, f32 *C, int ldc,
                             int load) {
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
  if (load) {
    c00 = wasm_v128_load(C); c01 = wasm_v128_load(C + 4);
    c10 = wasm_v128_load(C + ldc); c11 = wasm_v128_load(C + ldc + 4);
    c20 = wasm_v128_load(C + 2 * ldc); c21 = wasm_v128_load(C + 2 * ldc + 4);
    c30 = wasm_v128_load(C + 3 * ldc); c31 = wasm_v128_load(C + 3 * ldc + 4);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = wasm_f32x4_splat(0.0f);
  }
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(Bp), b1 = wasm_v128_load(Bp + 4);
    v128_t a0 = wasm_v128_load32_splat(Ap);
    v128_t a1 = wasm_v128_load32_splat(Ap + 1);
    c00 = MADD(c00, a0, b0);
    c01 = MADD(c01, a0, b1);
    v128_t a2 = wasm_v128_load32_splat(Ap + 2);
    c10 = MADD(c10, a1, b0);
    c11 = MADD(c11, a1, b1);
    v128_t a3 = wasm_v128_load32_splat(Ap + 3);
    c20 = MADD(c20, a2, b0);
    c21 = MADD(c21, a2, b1);
    c30 = MADD(c30, a3, b0);
    c31 = MADD(c31, a3, b1);
    Ap += MR; Bp += NR;
  }
  wasm_v128_store(C, c00); wasm_v128_store(C + 4, c01);
  wasm_v128_store(C + ldc, c10); wasm_v128_store(C + ldc + 4, c11);
  wasm_v128_store(C + 2 * ldc, c20); wasm_v128_store(C + 2 * ldc + 4, c21);
  wasm_v128_store(C + 3 * ldc, c30); wasm_v128_store(C + 3 * ldc + 4, c31);
}

EXPORT(sgemm)
void sgemm(int M, int N, int K, const f32 *A, int sai, int sap, const f32 *B, int sbp, int sbj, f32 *C, int ldc,
           int accumulate, f32 *ws) {
  f32 *Bp = ws;
  f32 *Ap = ws + KC * NC;
  f32 *T = Ap + MC * KC;
  if (K == 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[i * ldc + j] = 0.0f;
    return;
  }
  for (int jc = 0; jc < N; jc += NC) {
    int nc = N - jc < NC ? N - jc : NC;
    for (int pc = 0; pc < K; pc += KC) {
      int kc = K - pc < KC ? K - pc : KC;
      int load = accumulate || pc > 0;
      pack_b(kc, nc, B + pc * sbp + jc * sbj, sbp, sbj, Bp);
      for (int ic = 0; ic < M; ic += MC) {
        int mc = M - ic < MC ? M - ic : MC;
        pack_a(mc, kc, A + ic * sai + pc * sap, sai, sap, Ap);
        for (int jr = 0; jr < nc; jr += NR) {
          int cols = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int rows = mc - ir < MR ? mc - ir : MR;
            f32 *Cij = C + (ic + ir) * ldc + jc + jr;
            const f32 *a = Ap + ir * kc, *b = Bp + jr * kc;
            if (rows == MR && cols == NR) {
              micro_4x8(kc, a, b, Cij, ldc, load);
            } else {
              if (load)
                for (int r = 0; r < rows; r++)
                  for (int c = 0; c < cols; c++) T[r * NR + c] = Cij[r * ldc + c];
              micro_4x8(kc, a, b, T, NR, load);
              for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) Cij[r * ldc + c] = T[r * NR + c];
            }
          }
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------------
 * im2col / col2im for NHWC. Rows m in [m0, m1) of the (B*OH*OW) output positions; each row holds
 * KH*KW*C values ordered (kh, kw, c), matching a [KH, KW, C, Cout] filter flattened to [K, Cout].
 * ---------------------------------------------------------------------------------------------- */
EXPORT(im2col)
void im2col(const f32 *x, int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw,
            int pt, int pl, int m0, int m1, f32 *__restrict col) {
  int K = KH * KW * C;
  for (int m = m0; m < m1; m++) {
    int b = m / (OH * OW), r = m % (OH * OW), oh = r / OW, ow = r % OW;
    f32 *row = col + (long)(m - m0) * K;
    for (int kh = 0; kh < KH; kh++) {
      int ih = oh * sh + kh * dh - pt;
      for (int kw = 0; kw < KW; kw++) {
        int iw = ow * sw + kw * dw - pl;
        f32 *dst = row + (kh * KW + kw) * C;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
          for (int c = 0; c < C; c++) dst[c] = 0.0f;
        } else {
          const f32 *src = x + (((long)b * H + ih) * W + iw) * C;
          for (int c = 0; c < C; c++) dst[c] = src[c];
        }
      }
    }
  }
}

EXPORT(col2im)
void col2im(const f32 *__restrict col, int H, int W, int C, int OH, int OW, int KH, int KW, int sh, int sw, int dh,
            int dw, int pt, int pl, int m0, int m1, f32 *__restrict dx) {
  int K = KH * KW * C;
  for (int m = m0; m < m1; m++) {
    int b = m / (OH * OW), r = m % (OH * OW), oh = r / OW, ow = r % OW;
    const f32 *row = col + (long)(m - m0) * K;
    for (int kh = 0; kh < KH; kh++) {
      int ih = oh * sh + kh * dh - pt;
      if (ih < 0 || ih >= H) continue;
      for (int kw = 0; kw < KW; kw++) {
        int iw = ow * sw + kw * dw - pl;
        if (iw < 0 || iw >= W) continue;
        const f32 *src = row + (kh * KW + kw) * C;
        f32 *dst = dx + (((long)b * H + ih) * W + iw) * C;
        for (int c = 0; c < C; c++) dst[c] += src[c];
      }
    }
  }
}

EXPORT(fill_zero)
void fill_zero(f32 *p, int n) {
  for (int i = 0; i < n; i++) p[i] = 0.0f;
}

/* ------------------------------------------------------------------------------------------------
 * Depthwise conv gradients, NHWC, filter [KH, KW, C, mult]; output channel o = c*mult + q.
 * ---------------------------------------------------------------------------------------------- */
EXPORT(depthwise_filter_grad)
void depthwise_filter_grad(const f32 *__restrict x, const f32 *__restrict dy, int B, int H, int W, int C, int mult,
                           int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw, int pt, int pl,
                           f32 *__restrict dW) {
  int CO = C * mult;
  for (int i = 0; i < KH * KW * CO; i++) dW[i] = 0.0f;
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const f32 *g = dy + (((long)b * OH + oh) * OW + ow) * CO;
        for (int kh = 0; kh < KH; kh++) {
          int ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            int iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            const f32 *xv = x + (((long)b * H + ih) * W + iw) * C;
            f32 *w = dW + (kh * KW + kw) * CO;
            if (mult == 1) {
              for (int c = 0; c < C; c++) w[c] += xv[c] * g[c];
            } else {
              for (int c = 0; c < C; c++)
                for (int q = 0; q < mult; q++) w[c * mult + q] += xv[c] * g[c * mult + q];
            }
          }
        }
      }
}

EXPORT(depthwise_input_grad)
void depthwise_input_grad(const f32 *__restrict dy, const f32 *__restrict filt, int B, int H, int W, int C, int mult,
                          int OH, int OW, int KH, int KW, int sh, int sw, int dh, int dw, int pt, int pl,
                          f32 *__restrict dx) {
  int CO = C * mult;
  long n = (long)B * H * W * C;
  if (mult == 1) {
    /* Gather form: each dx element is written once, accumulating its valid taps in registers. */
    int C16 = C & ~15;
    for (int b = 0; b < B; b++)
      for (int ih = 0; ih < H; ih++)
        for (int iw = 0; iw < W; iw++) {
          f32 *o = dx + (((long)b * H + ih) * W + iw) * C;
          for (int c = 0; c < C16; c += 16) {
            v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
            for (int kh = 0; kh < KH; kh++) {
              int th = ih + pt - kh * dh;
              if (th < 0 || th % sh) continue;
              int oh = th / sh;
              if (oh >= OH) continue;
              for (int kw = 0; kw < KW; kw++) {
                int tw = iw + pl - kw * dw;
                if (tw < 0 || tw % sw) continue;
                int ow = tw / sw;
                if (ow >= OW) continue;
                const f32 *g = dy + (((long)b * OH + oh) * OW + ow) * C + c;
                const f32 *w = filt + (kh * KW + kw) * C + c;
                a0 = MADD(a0, wasm_v128_load(g), wasm_v128_load(w));
                a1 = MADD(a1, wasm_v128_load(g + 4), wasm_v128_load(w + 4));
                a2 = MADD(a2, wasm_v128_load(g + 8), wasm_v128_load(w + 8));
                a3 = MADD(a3, wasm_v128_load(g + 12), wasm_v128_load(w + 12));
              }
            }
            wasm_v128_store(o + c, a0); wasm_v128_store(o + c + 4, a1);
            wasm_v128_store(o + c + 8, a2); wasm_v128_store(o + c + 12, a3);
          }
          for (int c = C16; c < C; c++) {
            f32 acc = 0.0f;
            for (int kh = 0; kh < KH; kh++) {
              int th = ih + pt - kh * dh;
              if (th < 0 || th % sh) continue;
              int oh = th / sh;
              if (oh >= OH) continue;
              for (int kw = 0; kw < KW; kw++) {
                int tw = iw + pl - kw * dw;
                if (tw < 0 || tw % sw) continue;
                int ow = tw / sw;
                if (ow >= OW) continue;
                acc += dy[(((long)b * OH + oh) * OW + ow) * C + c] * filt[(kh * KW + kw) * C + c];
              }
            }
            o[c] = acc;
          }
        }
    return;
  }
  for (long i = 0; i < n; i++) dx[i] = 0.0f;
  for (int b = 0; b < B; b++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const f32 *g = dy + (((long)b * OH + oh) * OW + ow) * CO;
        for (int kh = 0; kh < KH; kh++) {
          int ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            int iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            f32 *xv = dx + (((long)b * H + ih) * W + iw) * C;
            const f32 *w = filt + (kh * KW + kw) * CO;
            if (mult == 1) {
              for (int c = 0; c < C; c++) xv[c] += w[c] * g[c];
            } else {
              for (int c = 0; c < C; c++) {
                f32 s = 0.0f;
                for (int q = 0; q < mult; q++) s += w[c * mult + q] * g[c * mult + q];
                xv[c] += s;
              }
            }
          }
        }
      }
}

/* ------------------------------------------------------------------------------------------------
 * Max-pool gradient, NHWC. The running max starts at the first in-window element (not FLT_MIN), ties
 * go to the first maximum in row-major window order (as the cpu backend does).
 * ---------------------------------------------------------------------------------------------- */
EXPORT(max_pool_grad)
void max_pool_grad(const f32 *__restrict x, const f32 *__restrict dy, int B, int H, int W, int C, int OH, int OW,
                   int KH, int KW, int sh, int sw, int dh, int dw, int pt, int pl, f32 *__restrict dx) {
  long n = (long)B * H * W * C;
  int C4 = C & ~3;
  if (KH == sh && KW == sw && dh == 1 && dw == 1 && pt == 0 && pl == 0 && C4 == C && OH * KH <= H && OW * KW <= W) {
    /* Non-overlapping windows (the usual 2x2/2 pool): each input element is in at most one window, so
       write dx window by window (dy at the first maximum, 0 elsewhere) instead of zero-fill + scatter. */
    if (OH * KH != H || OW * KW != W)
      for (long i = 0; i < n; i++) dx[i] = 0.0f;
    for (int b = 0; b < B; b++)
      for (int oh = 0; oh < OH; oh++)
        for (int ow = 0; ow < OW; ow++) {
          const f32 *g = dy + (((long)b * OH + oh) * OW + ow) * C;
          long base = (((long)b * H + oh * KH) * W + ow * KW) * C;
          for (int c = 0; c < C; c += 4) {
            v128_t bv = wasm_v128_load(x + base + c);
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++)
                bv = wasm_f32x4_pmax(bv, wasm_v128_load(x + base + ((long)kh * W + kw) * C + c));
            v128_t gv = wasm_v128_load(g + c), done = wasm_i32x4_splat(0);
            for (int kh = 0; kh < KH; kh++)
              for (int kw = 0; kw < KW; kw++) {
                long off = base + ((long)kh * W + kw) * C + c;
                v128_t m = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + off), bv), done);
                wasm_v128_store(dx + off, wasm_v128_and(gv, m));
                done = wasm_v128_or(done, m);
              }
          }
        }
    return;
  }
  for (long i = 0; i < n; i++) dx[i] = 0.0f;
  for (int b = 0; b < B; b++) {
    const f32 *xb = x + (long)b * H * W * C;
    f32 *dxb = dx + (long)b * H * W * C;
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        const f32 *g = dy + (((long)b * OH + oh) * OW + ow) * C;
        /* first in-window position */
        int first = -1;
        for (int kh = 0; kh < KH && first < 0; kh++) {
          int ih = oh * sh + kh * dh - pt;
          if (ih < 0 || ih >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            int iw = ow * sw + kw * dw - pl;
            if (iw < 0 || iw >= W) continue;
            first = (ih * W + iw) * C;
            break;
          }
        }
        if (first < 0) continue;
        /* SIMD over channels: running max (value, element offset), strict > keeps the first maximum */
        for (int c = 0; c < C4; c += 4) {
          v128_t bv = wasm_v128_load(xb + first + c);
          v128_t bi = wasm_i32x4_add(wasm_i32x4_splat(first + c), wasm_i32x4_make(0, 1, 2, 3));
          for (int kh = 0; kh < KH; kh++) {
            int ih = oh * sh + kh * dh - pt;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
              int iw = ow * sw + kw * dw - pl;
              if (iw < 0 || iw >= W) continue;
              int off = (ih * W + iw) * C + c;
              v128_t v = wasm_v128_load(xb + off);
              v128_t m = wasm_f32x4_gt(v, bv);
              bv = wasm_v128_bitselect(v, bv, m);
              bi = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(off), wasm_i32x4_make(0, 1, 2, 3)), bi, m);
            }
          }
          dxb[wasm_i32x4_extract_lane(bi, 0)] += g[c];
          dxb[wasm_i32x4_extract_lane(bi, 1)] += g[c + 1];
          dxb[wasm_i32x4_extract_lane(bi, 2)] += g[c + 2];
          dxb[wasm_i32x4_extract_lane(bi, 3)] += g[c + 3];
        }
        for (int c = C4; c < C; c++) {
          int best = first + c;
          f32 bv = xb[best];
          for (int kh = 0; kh < KH; kh++) {
            int ih = oh * sh + kh * dh - pt;
            if (ih < 0 || ih >= H) continue;
            for (int kw = 0; kw < KW; kw++) {
              int iw = ow * sw + kw * dw - pl;
              if (iw < 0 || iw >= W) continue;
              int off = (ih * W + iw) * C + c;
              if (xb[off] > bv) { bv = xb[off]; best = off; }
            }
          }
          dxb[best] += g[c];
        }
      }
  }
}

/* ------------------------------------------------------------------------------------------------
 * FusedBatchNorm gradient (the partials tfjs defines: mean and variance are separate inputs).
 * x, dy: [N, C] (N = all leading dims). out: dx [N*C], then 4 vectors of C: dmean, dvar, dscale, doffset.
 * sums: 2*C floats of scratch.
 * ---------------------------------------------------------------------------------------------- */
EXPORT(batch_norm_grad)
void batch_norm_grad(const f32 *__restrict x, const f32 *__restrict dy, const f32 *__restrict mean,
                     const f32 *__restrict var, const f32 *__restrict scale, int hasScale, int N, int C, f32 eps,
                     f32 *__restrict dx, f32 *__restrict dmean, f32 *__restrict dvar, f32 *__restrict dscale,
                     f32 *__restrict doffset, f32 *__restrict rs) {
  /* rs[0..C) = rsqrt(var+eps) * scale; rs[C..2C) = rsqrt(var+eps) */
  for (int c = 0; c < C; c++) {
    f32 r = 1.0f / __builtin_sqrtf(var[c] + eps);
    rs[C + c] = r;
    rs[c] = r * (hasScale ? scale[c] : 1.0f);
    doffset[c] = 0.0f;
    dscale[c] = 0.0f; /* holds sum dy*(x-mean) until the end */
  }
  for (long n = 0; n < N; n++) {
    const f32 *xr = x + n * C, *gr = dy + n * C;
    f32 *dr = dx + n * C;
    for (int c = 0; c < C; c++) {
      f32 g = gr[c];
      doffset[c] += g;
      dscale[c] += g * (xr[c] - mean[c]);
      dr[c] = g * rs[c];
    }
  }
  for (int c = 0; c < C; c++) {
    f32 r = rs[C + c], s = hasScale ? scale[c] : 1.0f;
    f32 sdx = dscale[c];
    dmean[c] = -r * s * doffset[c];
    dvar[c] = -0.5f * r * r * r * s * sdx;
    dscale[c] = r * sdx;
  }
}

/* ------------------------------------------------------------------------------------------------
 * Row reductions and elementwise gradient helpers (x viewed as [N, C], C = trailing size).
 * ---------------------------------------------------------------------------------------------- */
#define ROW_BLOCK 256

/* out[c] = scale * sum_n x[n*C + c]; partial: C floats of scratch (blocked for accuracy). */
EXPORT(reduce_rows)
void reduce_rows(const f32 *__restrict x, int N, int C, f32 scale, f32 *__restrict out, f32 *__restrict partial) {
  for (int c = 0; c < C; c++) out[c] = 0.0f;
  if (C == 1) {
    for (int n0 = 0; n0 < N; n0 += ROW_BLOCK) {
      int n1 = N - n0 < ROW_BLOCK ? N : n0 + ROW_BLOCK;
      f32 s = 0.0f;
      for (int n = n0; n < n1; n++) s += x[n];
      out[0] += s;
    }
  } else {
    for (int n0 = 0; n0 < N; n0 += ROW_BLOCK) {
      int n1 = N - n0 < ROW_BLOCK ? N : n0 + ROW_BLOCK;
      for (int c = 0; c < C; c++) partial[c] = 0.0f;
      for (int n = n0; n < n1; n++) {
        const f32 *r = x + (long)n * C;
        for (int c = 0; c < C; c++) partial[c] += r[c];
      }
      for (int c = 0; c < C; c++) out[c] += partial[c];
    }
  }
  for (int c = 0; c < C; c++) out[c] *= scale;
}

/* out[n*C + c] = v[c] * scale */
EXPORT(broadcast_rows)
void broadcast_rows(const f32 *__restrict v, int N, int C, f32 scale, f32 *__restrict out) {
  for (long n = 0; n < N; n++) {
    f32 *r = out + n * C;
    for (int c = 0; c < C; c++) r[c] = v[c] * scale;
  }
}

/* out = (lo <(=) x <(=) hi) ? dy : 0 */
EXPORT(mask_grad)
void mask_grad(const f32 *__restrict dy, const f32 *__restrict x, int n, f32 lo, int loIncl, f32 hi, int hiIncl,
               f32 *__restrict out) {
  v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
  int n4 = n & ~3;
  for (int i = 0; i < n4; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t ml = loIncl ? wasm_f32x4_ge(v, vlo) : wasm_f32x4_gt(v, vlo);
    v128_t mh = hiIncl ? wasm_f32x4_le(v, vhi) : wasm_f32x4_lt(v, vhi);
    wasm_v128_store(out + i, wasm_v128_and(wasm_v128_load(dy + i), wasm_v128_and(ml, mh)));
  }
  for (int i = n4; i < n; i++) {
    int ok = (loIncl ? x[i] >= lo : x[i] > lo) && (hiIncl ? x[i] <= hi : x[i] < hi);
    out[i] = ok ? dy[i] : 0.0f;
  }
}

/* Batch-norm forward with per-channel a = scale/sqrt(var+eps), b = offset - mean*a: out = x*a + b.
   Each of mean/var/scale/offset has length C or 1 (stride 0); scale/offset may be absent (0 pointer).
   ab: 2*C floats of scratch. */
EXPORT(batch_norm)
void batch_norm(const f32 *__restrict x, int N, int C, const f32 *mean, int sm, const f32 *var, int sv,
                const f32 *scale, int ss, const f32 *offset, int so, f32 eps, f32 *__restrict out, f32 *__restrict ab) {
  f32 *a = ab, *b = ab + C;
  for (int c = 0; c < C; c++) {
    f32 r = 1.0f / __builtin_sqrtf(var[c * sv] + eps);
    f32 g = scale ? scale[c * ss] : 1.0f;
    a[c] = r * g;
    b[c] = (offset ? offset[c * so] : 0.0f) - mean[c * sm] * a[c];
  }
  for (long n = 0; n < N; n++) {
    const f32 *xr = x + n * C;
    f32 *o = out + n * C;
    for (int c = 0; c < C; c++) o[c] = xr[c] * a[c] + b[c];
  }
}

/* out = 2 * x * dy */
EXPORT(square_grad)
void square_grad(const f32 *__restrict dy, const f32 *__restrict x, int n, f32 *__restrict out) {
  for (int i = 0; i < n; i++) out[i] = 2.0f * x[i] * dy[i];
}

/* ------------------------------------------------------------------------------------------------
 * Data movement and scalar-broadcast elementwise ops (4-byte elements).
 * ---------------------------------------------------------------------------------------------- */
/* out = x[b0:b0+s0, b1:b1+s1, b2:b2+s2, b3:b3+s3] of a [d0, d1, d2, d3] tensor */
EXPORT(slice4d)
void slice4d(const f32 *__restrict x, int d1, int d2, int d3, int b0, int b1, int b2, int b3, int s0, int s1, int s2,
             int s3, f32 *__restrict out) {
  for (int i0 = 0; i0 < s0; i0++)
    for (int i1 = 0; i1 < s1; i1++)
      for (int i2 = 0; i2 < s2; i2++) {
        const f32 *src = x + ((((long)(b0 + i0) * d1 + (b1 + i1)) * d2 + (b2 + i2)) * d3 + b3);
        for (int i3 = 0; i3 < s3; i3++) out[i3] = src[i3];
        out += s3;
      }
}

EXPORT(min_scalar)
void min_scalar(const f32 *__restrict x, int n, f32 s, f32 *__restrict out) {
  for (int i = 0; i < n; i++) out[i] = x[i] < s ? x[i] : s;
}

EXPORT(max_scalar)
void max_scalar(const f32 *__restrict x, int n, f32 s, f32 *__restrict out) {
  for (int i = 0; i < n; i++) out[i] = x[i] > s ? x[i] : s;
}

/* out[m, c] = act(out[m, c] + bias[c]); act: 0 linear, 1 relu, 2 relu6 */
EXPORT(bias_act)
void bias_act(f32 *__restrict out, int M, int N, const f32 *__restrict bias, int act) {
  for (long m = 0; m < M; m++) {
    f32 *r = out + m * N;
    if (bias)
      for (int c = 0; c < N; c++) r[c] += bias[c];
    if (act == 1)
      for (int c = 0; c < N; c++) r[c] = r[c] > 0.0f ? r[c] : 0.0f;
    else if (act == 2)
      for (int c = 0; c < N; c++) r[c] = r[c] > 0.0f ? (r[c] < 6.0f ? r[c] : 6.0f) : 0.0f;
  }
}

/* out[n, c] = a[n, c] (op) v[c]; op: 0 add, 1 sub, 2 mul, 3 reversed sub (v - a) */
EXPORT(binary_rows)
void binary_rows(const f32 *__restrict a, const f32 *__restrict v, int N, int C, int op, f32 *__restrict out) {
  for (long n = 0; n < N; n++) {
    const f32 *r = a + n * C;
    f32 *o = out + n * C;
    if (op == 0) for (int c = 0; c < C; c++) o[c] = r[c] + v[c];
    else if (op == 1) for (int c = 0; c < C; c++) o[c] = r[c] - v[c];
    else if (op == 2) for (int c = 0; c < C; c++) o[c] = r[c] * v[c];
    else for (int c = 0; c < C; c++) o[c] = v[c] - r[c];
  }
}

/* ------------------------------------------------------------------------------------------------
 * Optimizer updates.
 * ---------------------------------------------------------------------------------------------- */
/* One Adam step for one variable, in one pass, rounding exactly as tfjs's op-by-op update does (each product,
 * sum, quotient and square root rounded to float32 in the same order; no contraction into FMAs):
 *   m' = m*b1 + g*c1;  v' = v*b2 + (g*g)*c2;  w' = ((m'/om1) / (sqrt(v'/om2) + eps)) * nlr + w
 * with c1 = 1 - beta1, c2 = 1 - beta2, om1 = 1 - beta1^t, om2 = 1 - beta2^t, nlr = -learning rate. */
EXPORT(adam_update)
void adam_update(const f32 *__restrict w, const f32 *__restrict m, const f32 *__restrict v, const f32 *__restrict g,
                 int n, f32 b1, f32 c1, f32 b2, f32 c2, f32 om1, f32 om2, f32 eps, f32 nlr, f32 *__restrict wo,
                 f32 *__restrict mo, f32 *__restrict vo) {
#pragma clang fp contract(off)
  int i = 0;
  const v128_t B1 = wasm_f32x4_splat(b1), C1 = wasm_f32x4_splat(c1), B2 = wasm_f32x4_splat(b2), C2 = wasm_f32x4_splat(c2);
  const v128_t OM1 = wasm_f32x4_splat(om1), OM2 = wasm_f32x4_splat(om2), EPS = wasm_f32x4_splat(eps), NLR = wasm_f32x4_splat(nlr);
  for (; i + 4 <= n; i += 4) {
    v128_t gi = wasm_v128_load(g + i);
    v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), B1), wasm_f32x4_mul(gi, C1));
    v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), B2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), C2));
    v128_t step = wasm_f32x4_div(wasm_f32x4_div(mi, OM1), wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(vi, OM2)), EPS));
    wasm_v128_store(wo + i, wasm_f32x4_add(wasm_f32x4_mul(step, NLR), wasm_v128_load(w + i)));
    wasm_v128_store(mo + i, mi);
    wasm_v128_store(vo + i, vi);
  }
  for (; i < n; i++) {
    f32 gi = g[i];
    f32 mi = m[i] * b1 + gi * c1;
    f32 vi = v[i] * b2 + (gi * gi) * c2;
    f32 step = (mi / om1) / (__builtin_sqrtf(vi / om2) + eps);
    wo[i] = step * nlr + w[i];
    mo[i] = mi;
    vo[i] = vi;
  }
}

/* ------------------------------------------------------------------------------------------------
 * Row gathers and segment sums (Embedding layers: GatherV2 forward, UnsortedSegmentSum its gradient). 4-byte
 * elements moved as bits (gather) or summed as f32/i32 (segment sum); ids are checked by the caller (gather) or
 * skipped when out of range (segment sum, TensorFlow's semantics).
 * ---------------------------------------------------------------------------------------------- */
EXPORT(gather_rows)
void gather_rows(const int *__restrict x, const int *__restrict idx, int n, int outer, int dim, int inner,
                 int *__restrict out) {
  for (int o = 0; o < outer; o++) {
    const int *xo = x + (long)o * dim * inner;
    int *oo = out + (long)o * n * inner;
    for (int i = 0; i < n; i++) __builtin_memcpy(oo + (long)i * inner, xo + (long)idx[i] * inner, (unsigned long)inner * 4);
  }
}

EXPORT(segment_sum_f32)
void segment_sum_f32(const f32 *__restrict x, const int *__restrict ids, int rows, int inner, int segments,
                     f32 *__restrict out) {
  for (long i = 0; i < (long)segments * inner; i++) out[i] = 0.0f;
  for (int r = 0; r < rows; r++) {
    int s = ids[r];
    if (s < 0 || s >= segments) continue;
    f32 *o = out + (long)s * inner;
    const f32 *a = x + (long)r * inner;
    int j = 0;
    for (; j + 4 <= inner; j += 4) wasm_v128_store(o + j, wasm_f32x4_add(wasm_v128_load(o + j), wasm_v128_load(a + j)));
    for (; j < inner; j++) o[j] += a[j];
  }
}

EXPORT(segment_sum_i32)
void segment_sum_i32(const int *__restrict x, const int *__restrict ids, int rows, int inner, int segments,
                     int *__restrict out) {
  for (long i = 0; i < (long)segments * inner; i++) out[i] = 0;
  for (int r = 0; r < rows; r++) {
    int s = ids[r];
    if (s < 0 || s >= segments) continue;
    int *o = out + (long)s * inner;
    const int *a = x + (long)r * inner;
    for (int j = 0; j < inner; j++) o[j] += a[j];
  }
}

#!/bin/sh
# Rebuilds the engine modules from engine.c. Needs clang (>= 14) with the wasm32 target, wasm-ld (lld), node
# and, optionally, wasm-opt (binaryen). Users never need this: all built modules ship.
# (Compile and link are separate steps because clang's wasm driver runs wasm-opt without the SIMD flag.)
#   engine.wasm                 imports tfjs-backend-wasm's (non-shared) heap; the main thread's kernels.
#   engine_shared.wasm          the same code for a shared memory, run by the engine's worker threads (threads/).
#   engine_relaxed.wasm,        the same two with relaxed SIMD (f32x4.relaxed_madd in the GEMM and depthwise
#   engine_shared_relaxed.wasm  kernels); native.ts picks them where the runtime validates relaxed SIMD.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
LLD=$(command -v wasm-ld || command -v wasm-ld-14)
OBJ=$(mktemp --suffix=.o)
trap 'rm -f "$OBJ"' EXIT
CFLAGS="--target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -fno-builtin -nostdlib"
# A module can only import a shared memory if it declares one, which needs the atomics feature.
SHARED="--shared-memory --max-memory=4294967296"
build() { # out extra-cflags extra-ldflags
  $CLANG $CFLAGS $2 -c -o "$OBJ" engine.c
  "$LLD" --no-entry --export-dynamic --import-memory $3 --strip-all -o "$1" "$OBJ"
}
build engine.wasm "" ""
build engine_shared.wasm "-matomics" "$SHARED"
build engine_relaxed.wasm "-mrelaxed-simd" ""
build engine_shared_relaxed.wasm "-mrelaxed-simd -matomics" "$SHARED"
# clang 14/15 emit the prototype opcode for the relaxed FMA: count it in the listing, rewrite it in the modules.
FMAS=$($CLANG $CFLAGS -mrelaxed-simd -S -o - engine.c | grep -cE '^\s*f32x4\.fma\b' || true)
node patch_relaxed.mjs engine_relaxed.wasm "$FMAS"
node patch_relaxed.mjs engine_shared_relaxed.wasm "$FMAS"
if command -v wasm-opt >/dev/null 2>&1; then
  # (Not the relaxed modules: binaryen releases before 111 do not know relaxed SIMD's standard opcodes.)
  wasm-opt -O3 --enable-simd --enable-bulk-memory engine.wasm -o engine.wasm
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-threads engine_shared.wasm -o engine_shared.wasm
fi
ls -l engine*.wasm

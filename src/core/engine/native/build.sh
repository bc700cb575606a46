#!/bin/sh
# Rebuilds engine.wasm and engine_shared.wasm from engine.c. Needs clang (>= 14) with the wasm32 target,
# wasm-ld (lld) and, optionally, wasm-opt (binaryen). Users never need this: both built modules ship.
# (Compile and link are separate steps because clang's wasm driver runs wasm-opt without the SIMD flag.)
#   engine.wasm         imports tfjs-backend-wasm's (non-shared) heap; the main thread's kernels.
#   engine_shared.wasm  the same code for a shared memory, run by the engine's worker threads (threads/).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
LLD=$(command -v wasm-ld || command -v wasm-ld-14)
OBJ=$(mktemp --suffix=.o)
trap 'rm -f "$OBJ"' EXIT
$CLANG --target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -fno-builtin -nostdlib -c -o "$OBJ" engine.c
"$LLD" --no-entry --export-dynamic --import-memory --strip-all -o engine.wasm "$OBJ"
# A module can only import a shared memory if it declares one, which needs the atomics feature.
$CLANG --target=wasm32 -O3 -msimd128 -mbulk-memory -matomics -ffreestanding -fno-builtin -nostdlib -c -o "$OBJ" engine.c
"$LLD" --no-entry --export-dynamic --import-memory --shared-memory --max-memory=4294967296 --strip-all \
  -o engine_shared.wasm "$OBJ"
if command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -O3 --enable-simd --enable-bulk-memory engine.wasm -o engine.wasm
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-threads engine_shared.wasm -o engine_shared.wasm
fi
ls -l engine.wasm engine_shared.wasm

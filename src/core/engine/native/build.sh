#!/bin/sh
# Rebuilds engine.wasm from engine.c. Needs clang (>= 14) with the wasm32 target, wasm-ld (lld) and,
# optionally, wasm-opt (binaryen). Users never need this: the built engine.wasm ships in the package.
# (Compile and link are separate steps because clang's wasm driver runs wasm-opt without the SIMD flag.)
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
LLD=$(command -v wasm-ld || command -v wasm-ld-14)
OBJ=$(mktemp --suffix=.o)
trap 'rm -f "$OBJ"' EXIT
$CLANG --target=wasm32 -O3 -msimd128 -mbulk-memory -ffreestanding -fno-builtin -nostdlib -c -o "$OBJ" engine.c
"$LLD" --no-entry --export-dynamic --import-memory --strip-all -o engine.wasm "$OBJ"
if command -v wasm-opt >/dev/null 2>&1; then
  wasm-opt -O3 --enable-simd --enable-bulk-memory engine.wasm -o engine.wasm
fi
ls -l engine.wasm

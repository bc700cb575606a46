// Rewrites clang 14/15's relaxed-simd prototype opcode for f32x4.fma (0xfd 0xaf 0x01) to the standard
// f32x4.relaxed_madd (0xfd 0x85 0x02, same length), which is what V8 validates. Usage:
//   node patch_relaxed.mjs module.wasm EXPECTED
// EXPECTED is how many f32x4.fma instructions the compiler's assembly listing has: the rewrite refuses unless
// the code section holds exactly that many such byte runs (so none of them is part of an immediate).
// The result must then validate with relaxed SIMD on.
import { readFileSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const [file, expectedArg] = process.argv.slice(2);
const expected = Number(expectedArg);
const b = Buffer.from(readFileSync(file));
const leb = (i) => { let v = 0, s = 0, x; do { x = b[i++]; v |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return [v >>> 0, i]; };
let i = 8, code;
while (i < b.length) {
  const id = b[i];
  const [size, start] = leb(i + 1);
  if (id === 10) code = [start, start + size];
  i = start + size;
}
if (!code) throw new Error(`${file}: no code section`);
const at = [];
for (let j = code[0]; j + 2 < code[1]; j++) if (b[j] === 0xfd && b[j + 1] === 0xaf && b[j + 2] === 0x01) at.push(j);
if (at.length !== expected) throw new Error(`${file}: ${at.length} f32x4.fma byte runs in the code section, the listing has ${expected}`);
for (const j of at) { b[j + 1] = 0x85; b[j + 2] = 0x02; }
v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
if (!WebAssembly.validate(b)) throw new Error(`${file}: does not validate after the rewrite`);
writeFileSync(file, b);
console.log(`${file}: ${at.length} f32x4.fma -> f32x4.relaxed_madd`);

/**
 * The engine ships two builds (native/build.sh): SIMD128 only, and with relaxed SIMD's fused multiply-add.
 * This process runs the one engineSimd() picks (relaxed where supported); the exactness tests below run again
 * in a child process on the other build, so both are checked against the cpu backend.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineSimd, relaxedSimdSupported } from '../../../src/core/engine/index.js';
import { packageRoot } from '../../../src/core/engine/native.js';

const exec = promisify(execFile);
const native = join(packageRoot(), 'src', 'core', 'engine', 'native');
const MODULES = ['engine.wasm', 'engine_shared.wasm', 'engine_relaxed.wasm', 'engine_shared_relaxed.wasm'];
/** The exactness suites (wasm against cpu) that the child runs on the other build. */
const SUITES = ['kernels', 'fold_batch_norm', 'data_parallel'];

describe('engine builds: plain and relaxed SIMD', () => {
  it('picks relaxed SIMD exactly where the runtime supports it (Node 20: after turning its flag on)', () => {
    assert.equal(engineSimd(), process.env.FLASH_ENGINE_SIMD === 'plain' || !relaxedSimdSupported() ? 'plain' : 'relaxed');
  });

  it('ships four modules with the same exports; the relaxed ones use relaxed_madd', () => {
    const names = (f: string) => WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(native, f)))).map((e) => e.name).sort();
    const bytes = (f: string) => readFileSync(join(native, f));
    const madd = (b: Buffer) => { let n = 0; for (let i = 0; i + 2 < b.length; i++) if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) n++; return n; };
    for (const f of MODULES) assert.ok(existsSync(join(native, f)), f);
    assert.ok(madd(bytes('engine_relaxed.wasm')) > 0 && madd(bytes('engine_shared_relaxed.wasm')) > 0);
    if (!relaxedSimdSupported()) return; // (the relaxed modules do not compile here)
    const want = names('engine.wasm');
    for (const f of MODULES.slice(1)) assert.deepEqual(names(f), want, f);
  });

  it('refuses an unknown FLASH_ENGINE_SIMD', async () => {
    const index = join(packageRoot(), 'dist', 'src', 'core', 'engine', 'index.js');
    const script = `import(${JSON.stringify(index)}).then((m) => m.engineSimd())`;
    await assert.rejects(exec(process.execPath, ['-e', script], { env: { ...process.env, FLASH_ENGINE_SIMD: 'fast' } }),
      /FLASH_ENGINE_SIMD must be auto, plain or relaxed/);
  });

  it('the exactness suites pass on the other build', { timeout: 180_000 }, async (t) => {
    const other = engineSimd() === 'relaxed' ? 'plain' : 'relaxed';
    if (other === 'relaxed' && !relaxedSimdSupported()) return t.skip('this runtime has no relaxed SIMD');
    const dir = fileURLToPath(new URL('.', import.meta.url));
    const files = SUITES.map((s) => join(dir, `${s}.test.js`)).filter(existsSync);
    if (files.length === 0) return t.skip('run from dist/ (compiled tests)');
    // (Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing TAP.)
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const { stdout } = await exec(process.execPath, ['--test', ...files], {
      env: { ...env, FLASH_ENGINE_SIMD: other }, timeout: 170_000, maxBuffer: 16 << 20,
    });
    assert.match(stdout, /# fail 0/);
    assert.match(stdout, /# pass [1-9]/);
  });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { commandHint, flashCommand, shellQuote, shownPath } from '../../src/core/hints.js';
import { packageRoot } from '../../src/core/package_root.js';
import { makeTempDir, removeDir } from '../helpers/images.js';

let tmp: string;
before(async () => {
  tmp = await makeTempDir('flash-hints-');
});
after(() => removeDir(tmp));

/** What a POSIX shell makes of a command line: its words, one per line. */
const shellWords = (line: string): string[] => execFileSync('sh', ['-c', `printf '%s\\n' ${line}`], { encoding: 'utf8' }).split('\n').slice(0, -1);

test('shellQuote leaves safe words alone and quotes the rest so the shell reads them back unchanged', () => {
  assert.equal(shellQuote('runs/image_classification-2024'), 'runs/image_classification-2024');
  assert.equal(shellQuote('carré'), 'carré');
  const awkward = ['my runs/a', "it's", 'a;rm -rf x', '$HOME', '`x`', 'a*b', 'tab\there', '', '"q"', 'back\\slash', '!bang', 'x&y|z', '(p)', '~/r', '#c'];
  for (const w of awkward) assert.notEqual(shellQuote(w), w, w);
  assert.deepEqual(shellWords(awkward.map(shellQuote).join(' ')), awkward);
});

test('shownPath: as given; else relative inside cwd; else absolute, never ../', () => {
  const cwd = '/home/u/proj';
  assert.equal(shownPath({ path: '/home/u/proj/runs/a', given: './runs/a' }, cwd), './runs/a');
  assert.equal(shownPath('/home/u/proj/runs/a', cwd), join('runs', 'a'));
  assert.equal(shownPath('/home/u/proj', cwd), '.');
  assert.equal(shownPath('/data/runs/a', cwd), '/data/runs/a');
  assert.equal(shownPath('/home/u/other/run', cwd), '/home/u/other/run');
  assert.equal(shownPath('runs/b', cwd), join('runs', 'b'));
});

test('flashCommand: FLASH_BIN, else flash only when the flash on PATH is this package, else npx flash', async () => {
  assert.equal(flashCommand({ FLASH_BIN: 'node /opt/flash/dist/bin/flash.js', PATH: '' }), 'node /opt/flash/dist/bin/flash.js');
  assert.equal(flashCommand({ PATH: '' }), 'npx flash');
  assert.equal(flashCommand({}), 'npx flash');
  const ours = join(tmp, 'ours');
  await mkdir(ours);
  await symlink(join(packageRoot(), 'dist', 'bin', 'flash.js'), join(ours, 'flash'));
  const other = join(tmp, 'other');
  await mkdir(other);
  await writeFile(join(other, 'flash'), '#!/bin/sh\necho another flash\n', { mode: 0o755 });
  assert.equal(flashCommand({ PATH: ['/nonexistent', ours].join(':') }), 'flash');
  assert.equal(flashCommand({ PATH: [other, ours].join(':') }), 'npx flash', 'the first flash on PATH is someone else\'s');
  assert.equal(flashCommand({ PATH: [ours, other].join(':') }), 'flash');
});

test('commandHint prints a command the shell splits into the intended words', () => {
  const cwd = '/home/u/proj';
  const env = { PATH: '' };
  assert.equal(
    commandHint(['predict', '--model', { path: '/home/u/proj/my runs/a b' }, '--folder', '<images>'], { cwd, env }),
    "npx flash predict --model 'my runs/a b' --folder <images>",
  );
  assert.equal(commandHint(['image_classification', '--resume', { path: '/tmp/x', given: "../it's here" }], { cwd, env }), "npx flash image_classification --resume '../it'\\''s here'");
  assert.equal(commandHint(['predict', '--model', { path: '/srv/runs/a' }], { cwd, env }), 'npx flash predict --model /srv/runs/a');
  const line = commandHint(['predict', '--model', { path: '/home/u/proj/a $b;c' }], { cwd, env });
  assert.deepEqual(shellWords(line), ['npx', 'flash', 'predict', '--model', 'a $b;c']);
});

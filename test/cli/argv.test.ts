import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags, unknownOptionMessage, wantsHelp, type FlagKind } from '../../src/cli/argv.js';

const table = new Map<string, FlagKind>([
  ['trainer.max_epochs', 'string'],
  ['quiet', 'boolean'],
  ['files', 'array'],
  ['lr', 'string'],
]);

test('parseFlags keeps dotted flags flat, values as strings, and collects unknown flags', () => {
  const p = parseFlags(['--trainer.max_epochs', '010', '--files', 'a.jpg', '1e3', '--quiet', '--lr=-0.5', '--x.y.z', '3', '-k', 'word'], table);
  assert.deepEqual(Object.fromEntries(p.values), { 'trainer.max_epochs': '010', files: ['a.jpg', '1e3'], quiet: true, lr: '-0.5' });
  assert.deepEqual(p.unknown, ['--x.y.z', '-k']);
  assert.deepEqual(p.positionals, []);
});

test('parseFlags: a repeated flag keeps its last value; words that are no value are positionals', () => {
  const p = parseFlags(['cmd', '--lr', '1', '--lr', '2', '--quiet', 'false', 'tail'], table);
  assert.equal(p.values.get('lr'), '2');
  assert.equal(p.values.get('quiet'), false);
  assert.deepEqual(p.positionals, ['cmd', 'tail']);
});

test('unknownOptionMessage and wantsHelp', () => {
  assert.equal(unknownOptionMessage('--trainer.max_epoch', table.keys()), "unknown option '--trainer.max_epoch' (did you mean '--trainer.max_epochs'?)");
  assert.equal(unknownOptionMessage('--zzz', table.keys()), "unknown option '--zzz'");
  assert.ok(wantsHelp(['a', '-h']));
  assert.ok(!wantsHelp(['--', '--help']));
});

test("parseFlags: a lone '-' after a string flag is its value (stdin), as with --flag=-", () => {
  const t = new Map<string, FlagKind>([['csv', 'string'], ['model', 'string'], ['strict', 'boolean']]);
  for (const argv of [['--csv', '-', '--model', 'r'], ['--csv=-', '--model', 'r'], ['--model', 'r', '--csv', '-']]) {
    const p = parseFlags(argv, t);
    assert.equal(p.values.get('csv'), '-', argv.join(' '));
    assert.equal(p.values.get('model'), 'r');
    assert.deepEqual(p.positionals, []);
  }
  // After `--` nothing is a flag; after a boolean flag '-' stays a word.
  assert.deepEqual(parseFlags(['--', '--csv', '-'], t).positionals, ['--csv', '-']);
  assert.deepEqual(parseFlags(['--strict', '-'], t).positionals, ['-']);
});

test('parseFlags: a boolean flag given =word must say true or false (yargs would read any other word as false)', () => {
  assert.equal(parseFlags(['--quiet=true'], table).values.get('quiet'), true);
  assert.equal(parseFlags(['--quiet=false'], table).values.get('quiet'), false);
  for (const bad of ['banana', 'null', '1', '', 'TRUE']) {
    assert.throws(() => parseFlags([`--quiet=${bad}`], table), { message: `--quiet expects true or false, got '${bad}'` });
  }
  assert.equal(parseFlags(['--', '--quiet=banana'], table).values.get('quiet'), undefined, 'after -- it is not a flag');
});

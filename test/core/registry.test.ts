import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashUserError } from '../../src/core/errors.js';
import { Registry } from '../../src/core/registry.js';

function fruitRegistry(): Registry<number> {
  return new Registry<number>('fruit').register('apple', 1, 'red or green').register('banana', 2).register('cherry', 3, 'small');
}

test('register/get/has/names/list keep registration order and descriptions', () => {
  const r = fruitRegistry();
  assert.equal(r.kind, 'fruit');
  assert.equal(r.get('banana'), 2);
  assert.equal(r.has('apple'), true);
  assert.equal(r.has('durian'), false);
  assert.deepEqual(r.names(), ['apple', 'banana', 'cherry']);
  assert.deepEqual(r.list(), [
    { name: 'apple', item: 1, description: 'red or green' },
    { name: 'banana', item: 2, description: '' },
    { name: 'cherry', item: 3, description: 'small' },
  ]);
});

test('registering a name twice throws (a programming error, not a user error)', () => {
  const r = fruitRegistry();
  assert.throws(() => r.register('apple', 9), (err: unknown) => err instanceof Error && !(err instanceof FlashUserError) && err.message === "fruit 'apple' is already registered");
  assert.equal(r.get('apple'), 1, 'the first registration stays');
});

test('an unknown name is a user error with a did-you-mean for a typo and the available names', () => {
  const r = fruitRegistry();
  assert.throws(() => r.get('banan'), (err: unknown) => {
    assert.ok(err instanceof FlashUserError);
    assert.equal(err.message, "unknown fruit 'banan' (did you mean 'banana'?); available: apple, banana, cherry");
    assert.equal(err.exitCode, 2);
    return true;
  });
  assert.throws(() => r.get('APPLE'), /did you mean 'apple'/);
});

test('a far-off name gets no suggestion', () => {
  assert.throws(() => fruitRegistry().get('watermelon'), (err: unknown) => {
    assert.ok(err instanceof FlashUserError);
    assert.equal(err.message, "unknown fruit 'watermelon'; available: apple, banana, cherry");
    return true;
  });
});

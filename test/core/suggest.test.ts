import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, didYouMean, editDistance } from '../../src/core/suggest.js';

test('editDistance is the Levenshtein distance', () => {
  assert.equal(editDistance('', ''), 0);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('same', 'same'), 0);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('flaw', 'lawn'), 2);
  assert.equal(editDistance('adam', 'adamw'), 1);
  assert.equal(editDistance('ab', 'ba'), 2, 'a transposition is two edits');
  assert.equal(editDistance('max_epochs', 'max_epoch'), 1);
  assert.equal(editDistance('intention', 'execution'), 5);
  assert.equal(editDistance('gumbo', 'gambol'), editDistance('gambol', 'gumbo'));
});

test('closest picks the nearest candidate, case-insensitively, within a third of the length (at least 2)', () => {
  const keys = ['max_epochs', 'batch_size', 'learning_rate', 'backbone'];
  assert.equal(closest('max_epoch', keys), 'max_epochs');
  assert.equal(closest('batchsize', keys), 'batch_size');
  assert.equal(closest('Learning_Rate', keys), 'learning_rate');
  assert.equal(closest('backbon', keys), 'backbone');
  assert.equal(closest('optimizer', keys), undefined);
  assert.equal(closest('x', []), undefined);
  // Short words: distance 2 is still allowed.
  assert.equal(closest('sdg', ['sgd', 'adam']), 'sgd');
  assert.equal(closest('zzz', ['sgd', 'adam']), undefined);
  // The first of equally close candidates wins.
  assert.equal(closest('cat', ['bat', 'hat']), 'bat');
});

test('didYouMean formats a suggestion or nothing', () => {
  assert.equal(didYouMean('simple_cn', ['simple_cnn', 'resnet18']), " (did you mean 'simple_cnn'?)");
  assert.equal(didYouMean('vgg16', ['simple_cnn', 'resnet18']), '');
});

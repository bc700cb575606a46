import assert from 'node:assert/strict';
import { FlashUserError } from '../../src/core/errors.js';

/** Asserts that `p` rejects with a one-line FlashUserError whose message equals `expected` (a string) or matches it. */
export async function rejectsWith(p: Promise<unknown>, expected: string | RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof FlashUserError, `expected FlashUserError, got ${String(err)}`);
    if (typeof expected === 'string') assert.equal(err.message, expected);
    else assert.match(err.message, expected);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

/** The tabular data layer: CSV reading, field inference, the saved transform. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlashUserError } from '../../../src/core/errors.js';
import { chooseFields } from '../../../tasks/tabular/infer.js';
import { countsLine, fitPreprocessing, transform } from '../../../tasks/tabular/preprocess.js';
import { parseTable } from '../../../tasks/tabular/table.js';

const userError = (re: RegExp) => (e: unknown) => e instanceof FlashUserError && re.test(e.message);

describe('parseTable', () => {
  it('reads a BOM, CRLF line ends and quoted fields (a comma, a quote, a newline inside)', () => {
    const t = parseTable('\uFEFFa,b\r\n"x, y","say ""hi"""\r\n"two\nlines",3\r\n', 'f.csv');
    assert.deepEqual(t.columns, ['a', 'b']);
    assert.deepEqual(t.rows, [['x, y', 'say "hi"'], ['two\nlines', '3']]);
    assert.deepEqual(t.lines, [2, 4]);
  });
  it('names the file and the problem: empty, header only, ragged (line), duplicate column', () => {
    assert.throws(() => parseTable('', 'e.csv'), userError(/^e\.csv: empty CSV/));
    assert.throws(() => parseTable('a,b\n', 'h.csv'), userError(/^h\.csv: header only, no data rows$/));
    assert.throws(() => parseTable('a,b\n1,2\n3\n', 'r.csv'), userError(/^r\.csv: line 3 has 1 fields, the header has 2$/));
    assert.throws(() => parseTable('a,b,a\n1,2,3\n', 'd.csv'), userError(/^d\.csv: duplicate column name 'a' \(columns 1 and 3\)$/));
  });
});

describe('chooseFields', () => {
  const rows = Array.from({ length: 20 }, (_, i) => [String(i + 1), 'same', String(i % 7 === 0 ? '' : i * 1.5), ['a', 'b', 'c'][i % 3], i % 2 ? 'true' : 'false', `a long comment number ${i} about nothing in particular at all`, `2024-03-${String((i % 28) + 1).padStart(2, '0')}`, i % 2 ? 'x' : 'y']);
  const t = { file: 't.csv', columns: ['row_id', 'const', 'num', 'cat', 'flag', 'note', 'day', 'target'], rows, lines: rows.map((_, i) => i + 2) };
  it('infers numbers as numerical, text and booleans as categorical, dates as dates; leaves out ID-like, constant and free text, saying why', () => {
    const f = chooseFields(t, ['target'], { categorical: null, numerical: null });
    assert.deepEqual(f.numerical, ['num']);
    assert.deepEqual(f.categorical, ['cat', 'flag']);
    assert.deepEqual(f.dates, ['day']);
    assert.match(f.notes.join('\n'), /dates \(each expanded into year, month, weekday, yearday.*\): day/);
    assert.deepEqual(f.dropped.map((d) => d.name), ['row_id', 'const', 'note']);
    assert.match(f.dropped[0].why, /ID-like/);
    assert.match(f.dropped[1].why, /constant/);
    assert.match(f.dropped[2].why, /free text/);
    assert.match(f.notes.join('\n'), /left out: row_id \(ID-like/);
  });
  it('checks given fields: the target listed as a feature, an unknown column, a column in both lists', () => {
    assert.throws(() => chooseFields(t, ['target'], { categorical: ['target'], numerical: null }), userError(/'target' is the target and also listed in --categorical_fields/));
    assert.throws(() => chooseFields(t, ['target'], { categorical: null, numerical: ['nope'] }), userError(/t\.csv: no column 'nope' \(--numerical_fields\)/));
    assert.throws(() => chooseFields(t, ['target'], { categorical: ['cat'], numerical: ['cat'] }), userError(/in both/));
    assert.throws(() => chooseFields(t, ['missing'], { categorical: null, numerical: null }), userError(/no column 'missing' \(the target\)/));
  });
});

describe('preprocessing', () => {
  const train = parseTable('n,c\n1,a\n2,a\n3,b\n,b\n10,rare\n', 'train.csv');
  const p = fitPreprocessing(train, { numerical: ['n'], categorical: ['c'] }, 2);
  it('learns median, standardisation, a missing indicator and category codes from train only; rare categories fold', () => {
    const s = p.numerical[0];
    assert.equal(s.median, 2.5);
    assert.equal(s.indicator, true);
    assert.ok(Math.abs(s.mean - (1 + 2 + 3 + 2.5 + 10) / 5) < 1e-12);
    assert.deepEqual(p.categorical[0].categories, ['a', 'b']);
    assert.equal(p.categorical[0].folded, 1);
    assert.deepEqual(p.featureNames, ['n', 'n:missing', 'c=<missing>', 'c=<unknown>', 'c=a', 'c=b']);
  });
  it('applies the saved transform to new rows: unseen category → <unknown>, missing → median and <missing>, counted; a missing column named', () => {
    const rows = parseTable('c,n,extra\nzzz,NA,1\n,2.5,1\nb,3,1\n', 'rows.csv');
    const { x, n, counts } = transform(p, rows);
    assert.equal(n, 3);
    const row = (i: number) => [...x.subarray(i * p.width, (i + 1) * p.width)];
    const z = (v: number) => Math.fround((v - p.numerical[0].mean) / p.numerical[0].std);
    assert.deepEqual(row(0), [z(2.5), 1, 0, 1, 0, 0]);
    assert.deepEqual(row(1), [z(2.5), 0, 1, 0, 0, 0]);
    assert.deepEqual(row(2), [z(3), 0, 0, 0, 0, 1]);
    assert.deepEqual(counts, { missingNumbers: 1, missingCategories: 1, unknown: { c: 1 } });
    assert.equal(countsLine(counts), 'filled in: 1 missing numbers (train median); 1 missing categories (<missing>); 1 unseen categories (<unknown>: c 1)');
    assert.throws(() => transform(p, parseTable('c\na\n', 'short.csv')), userError(/^short\.csv: no column 'n' \(a numerical feature of the model\)/));
  });
});

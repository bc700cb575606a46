/** Date columns expanded into parts, skewed columns shaped by signed log1p: learned on train, saved, said, applied. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { datePart, encodeRows, recordsToRows, signedLog1p } from '../../../tasks/tabular/encode.js';
import { chooseFields } from '../../../tasks/tabular/infer.js';
import { fitPreprocessing, transform } from '../../../tasks/tabular/preprocess.js';
import type { Table } from '../../../tasks/tabular/table.js';

const table = (columns: string[], rows: string[][]): Table => ({ file: 't.csv', columns, rows, lines: rows.map((_, i) => i + 2) });

describe('date parts', () => {
  it('reads year, month, weekday (0 = Sunday) and day of year from the written date, in UTC', () => {
    assert.deepEqual(['year', 'month', 'weekday', 'yearday'].map((p) => datePart('2024-03-01', p as 'year')), [2024, 3, 5, 61]);
    assert.equal(datePart('2023-12-31T23:59:00+05:00', 'yearday'), 365);
    assert.equal(datePart('2024/1/7', 'weekday'), 0);
    assert.equal(datePart('2024-02-31', 'year'), undefined, 'no 31 February');
    assert.equal(datePart('yesterday', 'year'), undefined);
  });
  it('a date column becomes four standardised features; a missing or unreadable date takes the train median and an indicator', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [`2024-${String(i + 1).padStart(2, '0')}-15`, String(i % 5), i % 2 ? 'x' : 'y']);
    const t = table(['day', 'n', 'y'], rows);
    const fields = chooseFields(t, ['y'], { categorical: null, numerical: null });
    assert.deepEqual(fields.dates, ['day']);
    const p = fitPreprocessing(t, fields, 1);
    assert.deepEqual(p.featureNames, ['n', 'day:year', 'day:month', 'day:weekday', 'day:yearday']);
    const spec = p.numerical.find((s) => s.name === 'day:month')!;
    assert.equal(spec.median, 6.5);
    const { x, counts } = transform(p, table(['n', 'day'], [['3', '2024-12-15'], ['3', 'not a date']]));
    assert.ok(Math.abs(x[2] - (12 - spec.mean) / spec.std) < 1e-6);
    assert.ok(Math.abs(x[p.width + 2] - (6.5 - spec.mean) / spec.std) < 1e-6, 'unreadable → train median');
    assert.equal(counts.missingNumbers, 4, 'four parts of one unreadable date filled in');
  });
});

describe('skewed columns', () => {
  const rows = Array.from({ length: 200 }, (_, i) => [String(Math.round(Math.exp(i / 20))), String(i % 10), i % 2 ? 'a' : 'b']);
  const t = table(['income', 'even', 'y'], rows);
  it('a long-tailed column goes through signed log1p (said); a uniform one stays linear', () => {
    const notes: string[] = [];
    const p = fitPreprocessing(t, { numerical: ['income', 'even'], categorical: [] }, 1, notes);
    assert.equal(p.numerical[0].transform, 'signed_log1p');
    assert.equal(p.numerical[1].transform, undefined);
    assert.equal(notes.length, 1);
    assert.match(notes[0], /^income: skewed \(skewness \d+\.\d\), taken through signed log1p \(skewness -?\d\.\d\) before standardising$/);
    // The saved mean and std are of the shaped values: the train column standardises to mean 0, std 1.
    const { x } = transform(p, t);
    const col = Array.from({ length: 200 }, (_, i) => x[i * p.width]);
    const mean = col.reduce((a, b) => a + b, 0) / 200;
    assert.ok(Math.abs(mean) < 1e-5);
    assert.ok(Math.abs(x[199 * p.width] - (signedLog1p(Number(rows[199][0])) - p.numerical[0].mean) / p.numerical[0].std) < 1e-5);
  });
  it('signed log1p keeps the sign and is defined at 0', () => {
    assert.equal(signedLog1p(0), 0);
    assert.ok(Math.abs(signedLog1p(-Math.E + 1) + 1) < 1e-12);
  });
});

describe('encodeRows on plain objects (the exported page path)', () => {
  it('gives the same vector as the CSV path, columns in any order, null as missing', () => {
    const t = table(['a', 'c', 'y'], [['1', 'red', 'x'], ['2', 'blue', 'y'], ['', 'red', 'x'], ['4', 'blue', 'y']]);
    const p = fitPreprocessing(t, { numerical: ['a'], categorical: ['c'] }, 1);
    const fromCsv = transform(p, table(['c', 'a'], [['blue', '3'], ['green', '']])).x;
    const r = recordsToRows([{ c: 'blue', a: 3 }, { a: null, c: 'green' }]);
    assert.deepEqual(Array.from(encodeRows(p, r.columns, r.rows).x), Array.from(fromCsv));
  });
});

/**
 * Two text-classification corpora from the manual pages installed on this machine (Debian's /usr/share/man),
 * written as text,label CSV pairs for bench/text — not bundled: they are rebuilt from whatever the system holds
 * (man-pages and each package's own pages, under their various licences).
 *
 *   node dist/bench/text_corpora.js --out /tmp/flash-text-corpora
 *
 * - man_sections: an English page's DESCRIPTION → its section, 6 classes (1 user commands, 2 system calls,
 *   3 library functions, 5 file formats, 7 overviews/conventions, 8 administration);
 * - man_2v3: the binary corner of it, system calls (2) against library functions (3): both C API prose.
 * Each page is one text: its DESCRIPTION section's words (roff macros and escapes stripped), cut at 200 words;
 * pages with fewer than 20 words (redirects, stubs) are skipped. At most 300 pages a section, picked by a hash of
 * the page name; 30% of them (by another hash) are the test split, so one page is never on both sides.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { fnv1a } from '../tasks/text_classification/tokenizer.js';
import { log, runBench } from './common.js';

const MAN = '/usr/share/man';
const SECTIONS = ['1', '2', '3', '5', '7', '8'];
const PER_SECTION = 300;
const MAX_WORDS = 200;

/** The words of a roff page's DESCRIPTION section, macros and escapes stripped. */
export function descriptionText(roff: string): string {
  const out: string[] = [];
  let inDescription = false;
  for (const raw of roff.split('\n')) {
    const line = raw.replace(/\\".*$/, '');
    const sh = /^\.S[Hh]\s+"?([^"]*)"?/.exec(line);
    if (sh) {
      inDescription = /^DESCRIPTION/i.test(sh[1].trim());
      continue;
    }
    if (!inDescription) continue;
    let text = line;
    if (text.startsWith('.') || text.startsWith("'")) {
      const m = /^[.'](B|I|BI|IB|BR|RB|IR|RI|SM|SB)\s+(.*)$/.exec(text);
      if (!m) continue; // layout requests (.PP, .TP, .nf, .IP …) carry no words worth keeping
      text = m[2].replace(/"/g, '');
    }
    text = text
      .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
      .replace(/\\\(..|\\\[[^\]]*\]/g, ' ')
      .replace(/\\[-e]/g, (s) => (s === '\\-' ? '-' : '\\'))
      .replace(/\\[&|^%c0 ]/g, '')
      .replace(/\\\*\(?../g, '');
    out.push(text);
  }
  return out.join(' ').split(/\s+/).filter(Boolean).slice(0, MAX_WORDS).join(' ');
}

function csv(rows: { text: string; label: string }[]): string {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return `text,label\n${rows.map((r) => `${q(r.text)},${q(r.label)}`).join('\n')}\n`;
}

runBench(async () => {
  const { values } = parseArgs({ options: { out: { type: 'string', default: '/tmp/flash-text-corpora' } } });
  const out = values.out!;
  mkdirSync(out, { recursive: true });
  const train: { text: string; label: string }[] = [];
  const test: { text: string; label: string }[] = [];
  for (const s of SECTIONS) {
    const dir = join(MAN, `man${s}`);
    const names = readdirSync(dir).filter((f) => f.endsWith('.gz')).sort((a, b) => fnv1a(a) - fnv1a(b) || (a < b ? -1 : 1));
    let kept = 0;
    for (const name of names) {
      if (kept === PER_SECTION) break;
      let roff: string;
      try {
        roff = gunzipSync(readFileSync(join(dir, name))).toString('utf8');
      } catch {
        continue; // a dangling symlink
      }
      const text = descriptionText(roff);
      if (text.split(' ').length < 20) continue;
      kept++;
      (fnv1a(`test:${name}`) % 10 < 3 ? test : train).push({ text, label: `man${s}` });
    }
    log(`man${s}: ${kept} pages`);
  }
  const write = (corpus: string, keep: (l: string) => boolean) => {
    writeFileSync(join(out, `${corpus}_train.csv`), csv(train.filter((r) => keep(r.label))));
    writeFileSync(join(out, `${corpus}_test.csv`), csv(test.filter((r) => keep(r.label))));
    log(`${corpus}: ${train.filter((r) => keep(r.label)).length} train, ${test.filter((r) => keep(r.label)).length} test → ${out}/${corpus}_{train,test}.csv`);
  };
  write('man_sections', () => true);
  write('man_2v3', (l) => l === 'man2' || l === 'man3');
});

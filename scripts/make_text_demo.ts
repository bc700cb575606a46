/**
 * Writes data/demo/text/{train,test}.csv: the demo corpus of `flash text_classification` — short customer-support
 * messages in four intents (billing, shipping, technical, account), composed from hand-written phrase lists below
 * by a seeded generator. Everything here is written for flash (MIT, like the rest of the package).
 *
 *   npx tsx scripts/make_text_demo.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { mulberry32 } from '../src/core/random.js';

const OPENERS = ['Hi,', 'Hello,', 'Hey team,', 'Good morning,', 'Hi there,', '', '', 'Dear support,', 'Quick question:', 'Help!'];
const CLOSERS = ['Thanks.', 'Thank you!', 'Please help.', 'Any idea?', '', '', 'Cheers', 'Thanks in advance 🙏', 'This is urgent.', 'Regards'];

const INTENTS: Record<string, { says: string[]; things: string[] }> = {
  billing: {
    says: [
      'I was charged twice for {thing}',
      'why is there an extra fee on {thing}?',
      'I need a refund for {thing}',
      'my card was declined when paying for {thing}',
      'can you send me an invoice for {thing}',
      'the price of {thing} on my bill is wrong',
      'I cancelled but you still billed me for {thing}',
      'how do I change the payment method for {thing}',
      'please explain the charge for {thing} on my statement',
      'I got a receipt for {thing} that I never ordered',
    ],
    things: ['my subscription', 'last month', 'the annual plan', 'order 4471', 'the premium upgrade', 'my account', 'the renewal', 'two licences', 'the March invoice', 'a VAT charge'],
  },
  shipping: {
    says: [
      'my package for {thing} has not arrived',
      'where is {thing}? the tracking has not moved in days',
      'the parcel with {thing} was delivered to the wrong address',
      'can I change the delivery address for {thing}',
      '{thing} arrived damaged, the box was crushed',
      'how long does delivery of {thing} take',
      'the courier never came with {thing}',
      'tracking says delivered but I have no {thing}',
      'can you ship {thing} faster, I need it by Friday',
      'customs is holding {thing}, what do I do',
    ],
    things: ['my order', 'the headphones', 'order 4471', 'the replacement', 'the second box', 'my shoes', 'the gift', 'the charger', 'the return label', 'the furniture'],
  },
  technical: {
    says: [
      'the app crashes when I open {thing}',
      '{thing} shows an error 500',
      'I cannot connect {thing} to wifi',
      '{thing} is very slow since the last update',
      'the screen freezes on {thing}',
      'I get a blank page when loading {thing}',
      '{thing} stopped syncing with my phone',
      'after updating, {thing} will not start',
      'the button on {thing} does nothing when I click it',
      'is there a bug in {thing}? it keeps logging errors',
    ],
    things: ['the dashboard', 'the settings page', 'the mobile app', 'the export feature', 'the printer', 'my laptop', 'the camera', 'the search', 'the upload form', 'version 2.3'],
  },
  account: {
    says: [
      'I forgot the password for {thing}',
      'how do I delete {thing}',
      'I cannot log in to {thing}',
      'please change the email address on {thing}',
      '{thing} was locked after too many attempts',
      'someone else may have accessed {thing}',
      'how do I enable two-factor login for {thing}',
      'I want to merge {thing} with my work profile',
      'the verification code for {thing} never arrives',
      'can I rename the username of {thing}',
    ],
    things: ['my account', 'my profile', 'the family account', 'my old login', 'the admin user', 'my business account', 'the shared account', 'this email', 'my student account', 'the test user'],
  },
};

/** Things every intent can be about: a word alone rarely gives the intent away. */
const SHARED = ['my order', 'the app', 'my account', 'the website', 'my phone', 'the last update', 'my subscription', 'the package', 'this service', 'the new plan'];

function corpus(perClass: number, seed: number): { text: string; label: string }[] {
  const rand = mulberry32(seed);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)];
  const rows: { text: string; label: string }[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const [label, { says, things }] of Object.entries(INTENTS)) {
      let body = pick(says).replace('{thing}', rand() < 0.5 ? pick(SHARED) : pick(things));
      body = body[0].toUpperCase() + body.slice(1);
      if (!/[.?!]$/.test(body)) body += rand() < 0.7 ? '.' : '!';
      rows.push({ text: [pick(OPENERS), body, pick(CLOSERS)].filter(Boolean).join(' '), label });
    }
  }
  return rows;
}

const dir = join(import.meta.dirname, '..', 'data', 'demo', 'text');
mkdirSync(dir, { recursive: true });
for (const [name, n, seed] of [['train', 120, 1], ['test', 30, 2]] as const) {
  writeFileSync(join(dir, `${name}.csv`), stringify(corpus(n, seed), { header: true, columns: ['text', 'label'] }));
}

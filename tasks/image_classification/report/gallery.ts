/** The "most confidently wrong" gallery: thumbnails with "pred / true (p)" captions, as HTML data and as one PNG. */
import sharp from 'sharp';
import type { InputSpec } from '../model.js';
import type { Evaluation } from './data.js';

export interface GalleryItem {
  id: string;
  pred: string;
  truth: string;
  /** Probability the model gave its (wrong) prediction. */
  p: number;
  caption: string;
  /** PNG thumbnail as a data: URI ('' when the image could not be read). */
  thumb: string;
}

export interface Gallery {
  /** 'wrong': the most confident mistakes; 'uncertain': no mistakes, so the least confident correct predictions. */
  kind: 'wrong' | 'uncertain';
  items: GalleryItem[];
}

const THUMB = 112;

async function thumbnail(id: string, pixels: Uint8Array | undefined, spec: InputSpec): Promise<string> {
  try {
    const png = await sharp(id).rotate().resize(THUMB, THUMB, { fit: 'inside' }).flatten({ background: '#ffffff' }).png().toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch {
    if (!pixels) return '';
    const png = await sharp(Buffer.from(pixels), { raw: { width: spec.width, height: spec.height, channels: spec.channels } })
      .resize(THUMB, THUMB, { fit: 'inside', kernel: 'nearest' })
      .png()
      .toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  }
}

/** Picks up to `max` of the most confidently wrong predictions (or the least confident right ones when none is wrong). */
export async function buildGallery(ev: Evaluation, labels: string[], spec: InputSpec, max = 24): Promise<Gallery> {
  const k = labels.length;
  const conf = (i: number) => ev.probs[i * k + ev.pred[i]];
  const all = Array.from({ length: ev.labels.length }, (_, i) => i);
  const wrong = all.filter((i) => ev.pred[i] !== ev.labels[i]).sort((a, b) => conf(b) - conf(a));
  const kind = wrong.length > 0 ? 'wrong' : 'uncertain';
  const chosen = (kind === 'wrong' ? wrong : all.sort((a, b) => conf(a) - conf(b))).slice(0, max);
  const items: GalleryItem[] = [];
  for (const i of chosen) {
    const pred = labels[ev.pred[i]];
    const truth = labels[ev.labels[i]];
    const p = conf(i);
    items.push({ id: ev.ids[i], pred, truth, p, caption: `${pred} / ${truth} (${p.toFixed(2)})`, thumb: await thumbnail(ev.ids[i], ev.pixels.get(ev.ids[i]), spec) });
  }
  return { kind, items };
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The gallery as one PNG grid (for TensorBoard and people who won't open HTML); undefined when it is empty. */
export async function galleryPng(gallery: Gallery, title: string): Promise<Buffer | undefined> {
  const items = gallery.items.filter((it) => it.thumb);
  if (items.length === 0) return undefined;
  const cols = Math.min(6, items.length);
  const rows = Math.ceil(items.length / cols);
  const cw = 150;
  const ch = THUMB + 44;
  const top = 34;
  const width = cols * cw + 16;
  const height = top + rows * ch + 8;
  const cells = items.map((it, j) => {
    const x = 8 + (j % cols) * cw;
    const y = top + Math.floor(j / cols) * ch;
    const clip = (s: string) => (s.length > 22 ? `${s.slice(0, 21)}…` : s);
    return (
      `<image x="${x + (cw - THUMB) / 2}" y="${y}" width="${THUMB}" height="${THUMB}" href="${it.thumb}"/>` +
      `<text x="${x + cw / 2}" y="${y + THUMB + 16}" text-anchor="middle" font-size="12" fill="#b00">${xml(clip(it.pred))} / ${xml(clip(it.truth))}</text>` +
      `<text x="${x + cw / 2}" y="${y + THUMB + 32}" text-anchor="middle" font-size="12" fill="#444">p = ${it.p.toFixed(2)}</text>`
    );
  });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">` +
    `<rect width="100%" height="100%" fill="white"/><text x="8" y="22" font-size="15" font-weight="bold">${xml(title)}</text>${cells.join('')}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

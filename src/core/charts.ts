import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Charts for any task: a Vega-Lite spec rendered headless to SVG, then to PNG with sharp. */

/** Vega-Lite → Vega → SVG, headless (the 'none' renderer; text widths are estimated). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG with sharp (librsvg), at 2× for charts that are not already large. */
export async function svgToPng(svg: string): Promise<Buffer> {
  const width = Number(/<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1] ?? 800);
  const density = width > 1400 ? 72 : 144;
  return sharp(Buffer.from(svg), { density }).png({ compressionLevel: 9 }).toBuffer();
}

export type { TopLevelSpec };

/** report.html: one self-contained page (inline SVG charts, data: URI thumbnails, no scripts or fonts fetched). */
import { basename } from 'node:path';
import type { ReportData } from './data.js';
import type { Gallery } from './gallery.js';

export const esc = (s: unknown): string =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const num = (v: number | undefined, digits = 4) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(digits));

/** The charts, as SVG markup ready to inline (see `inlineSvg`). */
export interface ReportCharts {
  curves?: string;
  confusion?: string;
  pr?: string;
  roc?: string;
}

/** Machine-readable summary embedded in the page (`<script type="application/json" id="flash-report-data">`). */
export function reportJson(data: ReportData): Record<string, unknown> {
  const ev = data.evaluation;
  return {
    run: basename(data.runDir),
    labels: data.meta.labels,
    metrics: data.meta.metrics,
    evaluation: ev && {
      source: ev.source,
      count: ev.ids.length,
      metrics: ev.metrics,
      confusion_matrix: ev.confusion,
      per_class: ev.perClass.map((r, c) => ({ ...r, ap: ev.curves[c].ap, roc_auc: ev.curves[c].auc })),
    },
  };
}

function table(head: string[] | null, rows: string[][], cls = ''): string {
  const thead = head ? `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` : '';
  return `<table class="${cls}">${thead}<tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function confusionTable(cm: number[][], labels: string[]): string {
  const head = ['true \\ predicted', ...labels.map(esc)];
  const rows = cm.map((row, t) => [`<b>${esc(labels[t])}</b>`, ...row.map((v, p) => (p === t ? `<b>${v}</b>` : String(v)))]);
  return table(head, rows, 'cm');
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}
section{background:#fff;border:1px solid #e5e5e5;border-radius:6px;padding:12px 16px;margin-bottom:16px;overflow-x:auto}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #e3e3e3;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
table.cm td,table.cm th{padding:2px 5px;font-size:12px}
pre{background:#f6f8fa;padding:10px;border-radius:4px;font-size:12px;overflow:auto;max-height:420px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{width:132px;text-align:center;font-size:12px}
.card img{width:112px;height:112px;object-fit:contain;background:#eee;border:1px solid #ddd;image-rendering:auto}
.card .cap{margin-top:4px;word-break:break-word}.card .pred{color:#b00}
.kv td:first-child{color:#555}.kv td{text-align:left}
figure{margin:0}.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
svg{max-width:100%;height:auto}
`;

/** Builds the page. */
export function reportHtml(data: ReportData, charts: ReportCharts, gallery?: Gallery): string {
  const { meta } = data;
  const run = basename(data.runDir);
  const ev = data.evaluation;
  const parts: string[] = [];
  parts.push(`<h1>flash run report — ${esc(run)}</h1>`);
  parts.push(
    `<p class="sub">${esc(meta.task)} · backbone ${esc(meta.backbone)} · ${meta.labels.length} classes · status ${esc(meta.status)}` +
      `${meta.best_epoch ? ` · best epoch ${meta.best_epoch}` : ''} · created ${esc(meta.created)}</p>`,
  );

  const metricRows = Object.entries(meta.metrics ?? {}).map(([k, v]) => [esc(k), num(v)]);
  parts.push(`<h2>Summary</h2><section>${metricRows.length ? table(['metric (best model)', 'value'], metricRows) : '<p>No metrics recorded.</p>'}</section>`);

  const env: string[][] = [
    ['backend', esc(meta.backend)],
    ...Object.entries(meta.versions ?? {}).map(([k, v]) => [`${esc(k)} version`, esc(v)]),
    ...Object.entries(meta.data ?? {}).map(([k, v]) => [`${esc(k)} images`, esc(v)]),
    ['input', esc(`${meta.input.height}×${meta.input.width}×${meta.input.channels}`)],
    ['classes', esc(meta.labels.join(', '))],
  ];
  parts.push(`<h2>Environment</h2><section>${table(null, env, 'kv')}</section>`);
  parts.push(`<h2>Recipe</h2><section><pre>${esc(data.recipeYaml)}</pre></section>`);

  parts.push(`<h2>Training curves</h2><section>${charts.curves ?? '<p>No per-epoch metrics found (metrics.csv).</p>'}</section>`);

  if (ev) {
    const where = ev.source === 'test' || ev.source === 'val' ? `the ${ev.source} split` : `'${ev.source}'`;
    const evRows = Object.entries(ev.metrics).map(([k, v]) => [esc(k), num(v)]);
    parts.push(
      `<h2>Evaluation of the best model on ${esc(where)} (${ev.ids.length} images)</h2><section>${table(['metric', 'value'], evRows)}</section>`,
    );
    const k = meta.labels.length;
    if (!ev.targets) {
      parts.push(
        `<h2>Confusion matrix</h2><section>${charts.confusion ?? ''}` +
          `<details${k <= 12 ? ' open' : ''}><summary>Counts as a table (rows = true class, columns = predicted)</summary>${confusionTable(ev.confusion, meta.labels)}</details></section>`,
      );
    }
    const rows = ev.perClass.map((r, c) => [
      esc(r.label),
      num(r.precision, 3),
      num(r.recall, 3),
      num(r.f1, 3),
      String(r.support),
      num(ev.curves[c].ap, 3),
      num(ev.curves[c].auc, 3),
    ]);
    const unit = ev.targets ? 'label' : 'class';
    parts.push(`<h2>Per-${unit} metrics</h2><section>${table([unit, 'precision', 'recall', 'F1', 'support', 'AP (PR AUC)', 'ROC AUC'], rows, 'per-class')}</section>`);
    parts.push(`<h2>Precision-recall and ROC curves</h2><section class="charts">${charts.pr ?? ''}${charts.roc ?? ''}</section>`);
    if (gallery) {
      const heading =
        gallery.kind === 'wrong'
          ? `Most confidently wrong (${gallery.items.length} shown): pred / true (p)`
          : 'No mistakes — the least confident predictions: pred / true (p)';
      const cards = gallery.items.map(
        (it) =>
          `<figure class="card" title="${esc(it.id)}">${it.thumb ? `<img alt="${esc(it.caption)}" src="${it.thumb}">` : ''}` +
          `<figcaption class="cap"><span class="pred">${esc(it.pred)}</span> / ${esc(it.truth)} (${it.p.toFixed(2)})</figcaption></figure>`,
      );
      parts.push(`<h2>${esc(heading)}</h2><section><div class="grid">${cards.join('')}</div></section>`);
    }
  } else {
    parts.push(`<h2>Evaluation</h2><section><p>${esc(data.evaluationNote ?? 'not evaluated')}</p></section>`);
  }

  const json = JSON.stringify(reportJson(data)).replace(/</g, '\\u003c');
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>flash report — ${esc(run)}</title><style>${CSS}</style></head>\n<body><main>\n${parts.join('\n')}\n</main>\n` +
    `<script type="application/json" id="flash-report-data">${json}</script>\n</body></html>\n`
  );
}

/**
 * The page `flash serve` shows at `GET /`: one self-contained HTML file (inline CSS and script, no CDN, no build
 * step). A person drops, picks or pastes an image; the page posts it to `/predict` as multipart and draws the
 * top-k classes as bars. It reads the class list and input size from `/metadata`.
 */
export const SERVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>flash serve</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --accent: #7c3aed; --bg: #f7f7fb; --card: #fff; --bad: #b91c1c; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  main { max-width: 760px; margin: 0 auto; padding: 24px 16px 48px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h1 span { color: var(--accent); }
  #meta { color: var(--muted); margin: 0 0 18px; font-size: 13px; }
  #drop { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 6px; min-height: 150px;
          border: 2px dashed #c4c7d4; border-radius: 12px; background: var(--card); cursor: pointer; padding: 16px; text-align: center; }
  #drop.over { border-color: var(--accent); background: #f3edff; }
  #drop strong { font-size: 16px; }
  #drop small { color: var(--muted); }
  #file { position: absolute; width: 1px; height: 1px; opacity: 0; }
  .controls { display: flex; gap: 12px; align-items: center; margin: 12px 0; color: var(--muted); font-size: 13px; }
  .controls input { width: 64px; }
  #out { display: grid; grid-template-columns: 160px 1fr; gap: 18px; align-items: start; margin-top: 8px; }
  #preview { width: 160px; height: 160px; object-fit: contain; background: var(--card); border-radius: 8px; border: 1px solid #e5e7eb; }
  #preview:not([src]) { visibility: hidden; }
  #status { min-height: 1.4em; color: var(--muted); margin: 0 0 8px; }
  #status.error { color: var(--bad); }
  #results { list-style: none; margin: 0; padding: 0; }
  #results li { display: grid; grid-template-columns: minmax(90px, 34%) 1fr 56px; gap: 10px; align-items: center; margin: 6px 0; }
  #results .label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #results li:first-child .label { font-weight: 600; }
  #results .track { height: 14px; background: #e9e7f3; border-radius: 7px; overflow: hidden; }
  #results .bar { height: 100%; background: var(--accent); border-radius: 7px; transition: width .25s; }
  #results li:not(:first-child) .bar { background: #a78bfa; }
  #results .score { text-align: right; font-variant-numeric: tabular-nums; color: var(--muted); font-size: 13px; }
  footer { margin-top: 28px; color: var(--muted); font-size: 12px; }
  code { background: #eceaf5; padding: 1px 4px; border-radius: 4px; }
</style>
</head>
<body>
<main>
  <h1><span>flash</span> serve</h1>
  <p id="meta">loading model information…</p>
  <label id="drop" for="file">
    <strong>Drop an image here</strong>
    <small>or click to pick one (you can also paste) — JPEG, PNG, WebP, GIF or TIFF</small>
    <input id="file" type="file" accept="image/*">
  </label>
  <div class="controls"><label>top-k <input id="topk" type="number" min="1" value="5"></label></div>
  <div id="out">
    <img id="preview" alt="the image sent">
    <div>
      <p id="status" role="status" aria-live="polite">No image yet.</p>
      <ol id="results" aria-label="predicted classes"></ol>
    </div>
  </div>
  <footer>API: <code>POST /predict</code> (multipart file, <code>{"image": base64}</code> or <code>{"images": [...]}</code>, <code>?top_k=</code>) · <code>GET /metadata</code> · <code>GET /health</code></footer>
</main>
<script>
(() => {
  const $ = (id) => document.getElementById(id);
  const drop = $('drop'), file = $('file'), topk = $('topk'), status = $('status'), results = $('results'), preview = $('preview');
  let numClasses = 0;
  let shown;
  let last;

  fetch('metadata').then((r) => r.json()).then((m) => {
    numClasses = m.labels.length;
    topk.max = String(numClasses);
    topk.value = String(Math.min(5, numClasses));
    const input = m.input ? m.input.width + '×' + m.input.height + (m.input.channels === 1 ? ' grayscale' : ' RGB') : '';
    $('meta').textContent = numClasses + ' classes: ' + m.labels.slice(0, 12).join(', ') + (numClasses > 12 ? ', …' : '') +
      (input ? ' · input ' + input : '') + (m.backbone ? ' · ' + m.backbone : '') + (m.run ? ' · ' + m.run : '');
    document.body.dataset.ready = 'true';
  }).catch((e) => { $('meta').textContent = 'could not read /metadata: ' + e; document.body.dataset.ready = 'true'; });

  function setStatus(text, isError) {
    status.textContent = text;
    status.classList.toggle('error', Boolean(isError));
  }

  function render(pred) {
    results.replaceChildren();
    for (const t of pred.top_k) {
      const li = document.createElement('li');
      li.dataset.label = t.label;
      li.dataset.score = String(t.score);
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = t.label;
      label.title = t.label;
      const track = document.createElement('span');
      track.className = 'track';
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.display = 'block';
      bar.style.width = (Math.max(0, Math.min(1, t.score)) * 100).toFixed(1) + '%';
      track.appendChild(bar);
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = (t.score * 100).toFixed(1) + '%';
      li.append(label, track, score);
      results.appendChild(li);
    }
  }

  async function classify(f) {
    if (!f) return;
    last = f;
    if (shown) URL.revokeObjectURL(shown);
    shown = URL.createObjectURL(f);
    preview.src = shown;
    results.replaceChildren();
    setStatus('Classifying ' + f.name + '…');
    const body = new FormData();
    body.append('image', f, f.name || 'image');
    const k = Math.max(1, Math.min(Number(topk.value) || 5, numClasses || 1000));
    try {
      const r = await fetch('predict?top_k=' + k, { method: 'POST', body });
      const data = await r.json().catch(() => ({ message: r.statusText }));
      if (!r.ok) {
        setStatus('Error ' + r.status + ': ' + (data.message || r.statusText), true);
        return;
      }
      render(data);
      // Multi-label answers list every label at or above the threshold (possibly none).
      const said = data.labels
        ? (data.labels.length ? data.labels.map((l) => l.label + ' (' + (l.score * 100).toFixed(1) + '%)').join(', ') : 'no label at or above ' + data.threshold)
        : data.label + ' (' + (data.score * 100).toFixed(1) + '%)';
      setStatus((f.name ? f.name + ': ' : '') + said);
    } catch (e) {
      setStatus('Request failed: ' + e, true);
    }
  }

  topk.addEventListener('change', () => { if (last) classify(last); });
  preview.addEventListener('load', () => { preview.style.imageRendering = preview.naturalWidth < 160 ? 'pixelated' : 'auto'; });
  file.addEventListener('change', () => { classify(file.files[0]); file.value = ''; });
  ['dragenter', 'dragover'].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add('over'); }));
  ['dragleave', 'drop'].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove('over'); }));
  drop.addEventListener('drop', (e) => classify(e.dataTransfer && e.dataTransfer.files[0]));
  document.addEventListener('paste', (e) => {
    const item = [...(e.clipboardData ? e.clipboardData.files : [])][0];
    if (item) classify(item);
  });
})();
</script>
</body>
</html>
`;

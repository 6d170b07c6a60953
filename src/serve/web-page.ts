// The page `paenet serve` shows at /: pick or drop a photo, see each face boxed with every module's answer and the
// per-module size ledger (from /v1/tasks). Plain HTML and script, no build step.

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function webPage(tasks: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>paenet</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px system-ui,sans-serif;margin:2rem;max-width:1100px}
#drop{border:2px dashed #888;padding:1.5rem;text-align:center;border-radius:8px}
#drop.over{background:#eef}
#stage{position:relative;display:inline-block;margin-top:1rem}
#stage img{max-width:100%;display:block}
.box{position:absolute;border:2px solid #e33;color:#fff;font-size:12px}
.box span{background:#e33;position:absolute;top:100%;left:-2px;white-space:nowrap;padding:1px 3px}
table{border-collapse:collapse;margin-top:1rem}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
</style></head><body>
<h1>paenet</h1>
<p>One packed model, tasks: <b>${tasks.map(esc).join(', ')}</b>.</p>
<div id="drop">Drop a photo here or <input type="file" id="file" accept="image/*"></div>
<p id="status"></p>
<div id="stage"></div>
<h2>Modules</h2><table id="ledger"><tr><th>task</th><th>kind</th><th>metric</th><th>module MB</th></tr></table>
<script type="module">
const status = document.getElementById('status');
const stage = document.getElementById('stage');
const info = await (await fetch('/v1/tasks')).json();
const ledger = document.getElementById('ledger');
for (const t of info.tasks) {
  const row = ledger.insertRow();
  for (const v of [t.name, t.kind, t.metric.name + ' ' + (100 * t.metric.value).toFixed(2) + ' %', (t.moduleBytes / 2 ** 20).toFixed(3)]) row.insertCell().textContent = v;
}
async function analyze(file) {
  status.textContent = 'analysing ' + file.name + ' …';
  const res = await fetch('/v1/analyze', { method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream' }, body: file });
  const out = await res.json();
  if (!res.ok) { status.textContent = 'error: ' + out.error.message; return; }
  const url = URL.createObjectURL(file);
  stage.innerHTML = '';
  const img = new Image();
  img.onload = () => {
    const k = img.clientWidth / out.width;
    for (const f of out.faces) {
      const d = document.createElement('div');
      d.className = 'box face';
      Object.assign(d.style, { left: f.box[0] * k + 'px', top: f.box[1] * k + 'px', width: f.box[2] * k + 'px', height: f.box[3] * k + 'px' });
      const label = document.createElement('span');
      label.textContent = Object.entries(f.tasks).filter(([, a]) => a.kind === 'classify').map(([n, a]) => n + ': ' + a.label).join(' · ') || 'face';
      d.appendChild(label);
      stage.appendChild(d);
    }
  };
  img.src = url;
  stage.appendChild(img);
  status.textContent = out.faces.length + ' face(s) in ' + Math.round(out.ms.decode + out.ms.detect + out.ms.tasks) + ' ms';
  status.dataset.faces = String(out.faces.length);
}
document.getElementById('file').addEventListener('change', (e) => e.target.files[0] && analyze(e.target.files[0]));
const drop = document.getElementById('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); e.dataTransfer.files[0] && analyze(e.dataTransfer.files[0]); });
</script></body></html>`;
}

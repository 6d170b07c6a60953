// The page `paenet serve` shows at /: pick or drop a photo, see each face boxed with every module's answer and the
// per-module size ledger; a switch runs everything in the browser instead (src/serve/web/app.mjs).

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
<p><label><input type="checkbox" id="local"> run in this browser (the photo never leaves your machine)</label></p>
<p id="status"></p>
<div id="stage"></div>
<h2>Modules</h2><table id="ledger"><tr><th>task</th><th>kind</th><th>input px</th><th>metric</th><th>module MB</th></tr></table>
<p id="total"></p>
<script type="module" src="/app.mjs"></script>
</body></html>`;
}

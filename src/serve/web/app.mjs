// The paenet web page's script: analyse a photo on the server (POST /v1/analyze), or, with "run in this browser",
// entirely here: face-api's detector (tfjs) and the exported ONNX model (onnxruntime-web); the photo never leaves.
// The graph has one input per task input size; each is fed the faces cropped at its own side.
const $ = (id) => document.getElementById(id);
const status = $('status');
const stage = $('stage');
// Copies of src/metrics/format.ts and src/tasks/answers.ts: this page is browser JavaScript and cannot import the
// TypeScript the server and the CLI share. Keep them this small; the browser test checks the page against the server.
const percent = (x) => (100 * x).toFixed(2);
const megabytes = (bytes) => (bytes / 2 ** 20).toFixed(3);
/** Task `t`'s answer for crop `i` of `n` from its output rows: the best label and every score, or the embedding. */
function taskAnswer(t, rows, i, n) {
  const width = rows.length / n;
  const r = Array.from(rows.subarray(i * width, (i + 1) * width));
  if (t.kind === 'identity') return { kind: 'identity', embedding: r };
  const best = r.indexOf(Math.max(...r));
  return { kind: 'classify', label: t.labels[best], score: r[best], scores: Object.fromEntries(r.map((v, k) => [t.labels[k], v])) };
}

const info = await (await fetch('/v1/tasks')).json();
for (const t of info.tasks) {
  const row = $('ledger').insertRow();
  const metric = t.metric ? `${t.metric.name} ${percent(t.metric.value)} %` : '';
  for (const v of [t.name, t.kind, t.inputSize, metric, megabytes(t.moduleBytes)]) row.insertCell().textContent = v;
}
$('total').textContent = `all modules: ${megabytes(info.sizes.fileTensorBytes)} MB of tensors`;

let local; // { faceapi, ort, session, inputs } once loaded
async function loadLocal() {
  if (local) return local;
  status.textContent = 'loading the detector and the model into this browser …';
  const ort = await import('/vendor/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/vendor/ort/';
  ort.env.wasm.numThreads = 1;
  const faceapi = await import('/vendor/face-api/face-api.esm.js');
  await faceapi.nets.ssdMobilenetv1.loadFromUri('/vendor/face-api/model');
  await faceapi.nets.faceLandmark68Net.loadFromUri('/vendor/face-api/model');
  const session = await ort.InferenceSession.create('/v1/model.onnx');
  // Each graph input's side, from the graph itself: [batch, 3, S, S].
  const inputs = session.inputMetadata.map((m) => ({ name: m.name, size: m.shape[2] }));
  local = { faceapi, ort, session, inputs };
  return local;
}

/** The crop the model was trained on: square 1.2× the box's longer side, centre up 5 %, black outside, S×S RGB. */
function cropNchw(img, box, size, out, offset) {
  const [x, y, w, h] = box;
  const side = Math.max(1, Math.round(1.2 * Math.max(w, h)));
  const left = Math.round(x + w / 2 - side / 2);
  const top = Math.round(y + h / 2 - 0.05 * h - side / 2);
  const c = document.createElement('canvas');
  c.width = c.height = size;
  const g = c.getContext('2d');
  g.fillStyle = '#000';
  g.fillRect(0, 0, size, size);
  g.imageSmoothingQuality = 'high';
  g.drawImage(img, left, top, side, side, 0, 0, size, size);
  const px = g.getImageData(0, 0, size, size).data;
  const plane = size * size;
  for (let p = 0; p < plane; p++) for (let ch = 0; ch < 3; ch++) out[offset + ch * plane + p] = px[p * 4 + ch];
}

async function analyzeHere(file, img) {
  const { faceapi, ort, session, inputs } = await loadLocal();
  const t0 = performance.now();
  const found = await faceapi.detectAllFaces(img, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 100 })).withFaceLandmarks();
  const faces = found
    .map((f) => ({ box: [f.detection.box.x, f.detection.box.y, f.detection.box.width, f.detection.box.height], score: f.detection.score, landmarks: f.landmarks.positions.map((p) => [p.x, p.y]) }))
    .sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  const t1 = performance.now();
  if (faces.length) {
    const feeds = {};
    for (const { name, size } of inputs) {
      const x = new Float32Array(faces.length * 3 * size * size);
      faces.forEach((f, i) => cropNchw(img, f.box, size, x, i * 3 * size * size));
      feeds[name] = new ort.Tensor('float32', x, [faces.length, 3, size, size]);
    }
    const out = await session.run(feeds);
    faces.forEach((f, i) => (f.tasks = Object.fromEntries(info.tasks.map((t) => [t.name, taskAnswer(t, out[t.name].data, i, faces.length)]))));
  }
  return { source: file.name, width: img.naturalWidth, height: img.naturalHeight, faces, ms: { decode: 0, detect: t1 - t0, tasks: performance.now() - t1 }, where: 'browser' };
}

async function analyzeOnServer(file) {
  const res = await fetch('/v1/analyze', { method: 'POST', headers: { 'content-type': file.type || 'application/octet-stream' }, body: file });
  const out = await res.json();
  if (!res.ok) throw new Error(out.error.message);
  return { ...out, where: 'server' };
}

function draw(img, out) {
  const k = img.clientWidth / out.width;
  for (const f of out.faces) {
    const d = document.createElement('div');
    d.className = 'box face';
    Object.assign(d.style, { left: `${f.box[0] * k}px`, top: `${f.box[1] * k}px`, width: `${f.box[2] * k}px`, height: `${f.box[3] * k}px` });
    const label = document.createElement('span');
    label.textContent =
      Object.entries(f.tasks)
        .filter(([, a]) => a.kind === 'classify')
        .map(([n, a]) => `${n}: ${a.label}`)
        .join(' · ') || 'face';
    d.appendChild(label);
    stage.appendChild(d);
  }
}

async function analyze(file) {
  status.textContent = `analysing ${file.name} …`;
  status.dataset.done = '';
  stage.innerHTML = '';
  const img = new Image();
  img.src = URL.createObjectURL(file);
  await img.decode();
  stage.appendChild(img);
  try {
    const out = $('local').checked ? await analyzeHere(file, img) : await analyzeOnServer(file);
    window.paenetLast = out;
    draw(img, out);
    status.textContent = `${out.faces.length} face(s), ${out.where}, ${Math.round(out.ms.decode + out.ms.detect + out.ms.tasks)} ms`;
  } catch (e) {
    status.textContent = `error: ${e.message}`;
  }
  status.dataset.done = '1';
}

$('file').addEventListener('change', (e) => e.target.files[0] && analyze(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) analyze(e.dataTransfer.files[0]);
});

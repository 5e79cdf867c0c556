/**
 * The lab's HTML: the controls, the status line and an empty board that page/main.ts fills. The form's
 * field names are the settings' names (settings.ts), so a field, a URL parameter and a setting are one thing.
 */
import { BACKEND_LABELS, DEFAULT_SETTINGS, LAB_BACKENDS, LAB_PRIMES } from './settings.js';

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #222; background: #fafafa; }
header { padding: 14px 22px 6px; } h1 { font-size: 20px; margin: 0 0 4px; } header p { margin: 2px 0; color: #555; max-width: 1100px; }
form { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; padding: 10px 22px; background: #fff; border-block: 1px solid #e3e3e3; }
label { display: flex; flex-direction: column; font-size: 12px; color: #555; } label.check { flex-direction: row; gap: 4px; align-items: center; }
input, select { font: inherit; padding: 3px 5px; } input[type=number] { width: 80px; }
.buttons { display: flex; gap: 6px; } button { font: inherit; padding: 4px 12px; cursor: pointer; }
#lab-status { padding: 8px 22px; display: flex; flex-wrap: wrap; gap: 4px 22px; } #lab-status b { font-variant-numeric: tabular-nums; }
#lab-error { margin: 6px 22px; padding: 8px 12px; background: #fdecea; border: 1px solid #f5c2bd; color: #8a1c12; white-space: pre-wrap; }
#lab-error:empty { display: none; }
#lab-source { margin: 0 22px; color: #555; } #lab-source:empty { display: none; }
#lab-board { display: flex; flex-wrap: wrap; gap: 10px; padding: 8px 16px; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e3e3e3; padding: 6px; min-width: 200px; min-height: 120px; }
section { padding: 4px 22px 12px; } h2 { font-size: 15px; margin: 10px 0 6px; }
table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #e3e3e3; padding: 3px 8px; text-align: right; } td:first-child, th:first-child { text-align: left; }
#lab-drop { border: 2px dashed #bbb; padding: 8px 12px; color: #666; } body.dragging #lab-drop { border-color: #1f77b4; background: #eef5fc; }
#lab-log { font: 12px ui-monospace, monospace; color: #666; white-space: pre-wrap; margin: 0; }
#lab-result { font: 12px ui-monospace, monospace; margin: 0; }
`;

const option = (value: string | number, label: string, selected: boolean) =>
  `<option value="${value}"${selected ? ' selected' : ''}>${label}</option>`;

export function labHtml(): string {
  const d = DEFAULT_SETTINGS;
  const backends = LAB_BACKENDS.map((b) => option(b, `${b}: ${BACKEND_LABELS[b]}`, b === d.backend)).join('');
  const primes = LAB_PRIMES.map((p) => option(p, p === 113 ? '113 (the paper)' : String(p), p === d.p)).join('');
  const num = (name: string, label: string, value: number | string, step = 'any') =>
    `<label>${label}<input type="number" name="${name}" value="${value}" step="${step}"></label>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>grok lab: watch a transformer grok modular addition</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>grok lab</h1>
<p>A one-layer transformer learns (a + b) mod p in this tab, full batch, with AdamW and weight decay, as in Nanda et al. (2023),
“Progress measures for grokking via mechanistic interpretability”. It first memorises the training pairs, then forms a circuit
built on a few key frequencies (the bars of W<sub>E</sub> that light up, the stripes of the neuron), then cleans up the memorised
part: the test loss falls. The quick demo (p = 23 with 70 % of the pairs and lr 3e-3) groks within the first minute; the
paper's run (p = 113, 30 %, lr 1e-3) needs about 10,000 steps: 20–30 minutes at 6–8 steps/s on a 2-core CPU.</p>
</header>
<form id="lab-form" autocomplete="off">
<label>backend<select name="backend">${backends}</select></label>
<label>threads (wasm)<input type="text" name="threads" value="auto" size="4"></label>
<label>p<select name="p">${primes}</select></label>
${num('frac_train', 'data fraction', d.frac_train)}
${num('weight_decay', 'weight decay', d.weight_decay)}
${num('lr', 'learning rate', d.lr)}
${num('seed', 'seed', d.seed, '1')}
<label class="check"><input type="checkbox" name="grokfast" value="1">Grokfast (EMA)</label>
<label>fixed norm<input type="text" name="fixed_norm" value="" placeholder="off" size="6"></label>
${num('analyse_every', 'measure every', d.analyse_every, '1')}
<div class="buttons">
<button type="button" id="lab-start">Start</button>
<button type="button" id="lab-pause" disabled>Pause</button>
<button type="button" id="lab-resume" disabled>Resume</button>
<button type="button" id="lab-reset">Reset</button>
<button type="button" id="lab-preset-demo" title="p = 23, 70 % of the pairs, lr 3e-3: groks within a minute">Quick demo</button>
<button type="button" id="lab-preset-paper" title="p = 113, 30 % of the pairs, lr 1e-3, weight decay 1">The paper's run</button>
</div>
</form>
<div id="lab-error" role="alert"></div>
<div id="lab-status">
<span>step <b id="lab-step">0</b></span>
<span><b id="lab-rate">–</b> steps/s</span>
<span>phase: <b id="lab-phase">–</b></span>
<span>key frequencies: <b id="lab-keys">–</b></span>
<span>test accuracy: <b id="lab-acc">–</b></span>
<span id="lab-backend"></span>
</div>
<p id="lab-source"></p>
<div id="lab-board"></div>
<section>
<h2>Checkpoints</h2>
<div class="buttons">
<button type="button" id="lab-download" disabled>Download weights (.safetensors)</button>
<label id="lab-drop">Drop a checkpoint here, or choose one: <input type="file" id="lab-file" accept=".safetensors"></label>
<button type="button" id="lab-ablate" disabled>Ablate the key frequencies</button>
</div>
<div id="lab-ablations"></div>
</section>
<section>
<h2>Log</h2>
<pre id="lab-log"></pre>
<pre id="lab-result"></pre>
</section>
<script type="module" src="lab.js"></script>
</body>
</html>
`;
}

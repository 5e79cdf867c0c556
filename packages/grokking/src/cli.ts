#!/usr/bin/env node
/**
 * `pnpm grok`: the paper's experiment end to end (train, analyse, report).
 * Until the training package lands, this prints the plan and exits successfully.
 */
const plan = `grok: reproduce Nanda et al. (2023), "Progress measures for grokking via mechanistic interpretability".

The experiment (see ../shared/reference/PAPER.md):
  task      a + b mod 113, inputs [a, b, =], 30% of the 12,769 pairs for training
  model     one-layer transformer, d_model 128, 4 heads, d_mlp 512, ReLU, no LayerNorm
  training  full batch, AdamW lr 1e-3, betas (0.9, 0.98), weight decay 1.0, warm-up 10 steps, 40,000 steps
  analysis  Fourier structure, restricted/excluded loss, Gini coefficients, phases, ablations
  output    runs/paper-seed0/{config.json, metrics.jsonl, checkpoints/, analysis.json, report.html}

Status: the tensor, autograd and transformer packages are being built; training is not wired up yet.`;

console.log(plan);

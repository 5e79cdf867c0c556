// TEMPORARY: replaced by @grok/autograd's attentionPattern op.
import { Tensor, raw } from '@grok/autograd';
export function attentionPattern(qh: Tensor, kh: Tensor, { causal = false }: { causal?: boolean } = {}): Tensor {
  const d = qh.shape[3]!;
  const pos = kh.shape[2]!;
  let s = qh.matmul(kh, { transB: true }).div(Math.sqrt(d));
  if (causal && pos > 1) {
    const data = s.dtype === 'float64' ? new Float64Array(pos * pos) : new Float32Array(pos * pos);
    for (let i = 0; i < pos; i++) for (let j = i + 1; j < pos; j++) data[i * pos + j] = -Infinity;
    s = s.add(new Tensor(raw.tensor(data, { shape: [pos, pos], backend: s.value.backend })));
  }
  return s.softmax(-1);
}

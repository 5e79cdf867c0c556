/** Checkpoints in and out of the page: a download of the worker's bytes, and a dropped or chosen file's bytes. */

/** Saves `bytes` as a file named `name` (through a temporary object URL and a link click). */
export function download(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Largest checkpoint accepted: the paper's model is ≈ 1.8 MB; anything near this is not one of ours. */
const MAX_BYTES = 512 * 2 ** 20;

/** Calls `open` with every checkpoint the reader drops on the page or picks with `input`. */
export function acceptCheckpoints(input: HTMLInputElement, open: (file: File) => void): void {
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) open(file);
    input.value = '';
  });
  const body = document.body;
  body.addEventListener('dragover', (e) => {
    e.preventDefault();
    body.classList.add('dragging');
  });
  body.addEventListener('dragleave', () => body.classList.remove('dragging'));
  body.addEventListener('drop', (e) => {
    e.preventDefault();
    body.classList.remove('dragging');
    const file = e.dataTransfer?.files[0];
    if (file) open(file);
  });
}

/** The file's bytes, or an error that says why the file is refused before anything parses it. */
export async function readCheckpoint(file: File): Promise<Uint8Array> {
  if (!file.name.endsWith('.safetensors')) throw new Error(`${file.name}: expected a .safetensors checkpoint (from pnpm grok, or converted from PyTorch)`);
  if (file.size > MAX_BYTES) throw new Error(`${file.name}: ${file.size} bytes is more than a checkpoint of this model can be (${MAX_BYTES} at most)`);
  return new Uint8Array(await file.arrayBuffer());
}

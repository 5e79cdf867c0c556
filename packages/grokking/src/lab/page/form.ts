/** The settings form: filled from settings, read back as the text fields settings.ts parses. */
import type { LabSettings } from '../settings.js';

export function fillForm(form: HTMLFormElement, s: LabSettings): void {
  for (const [key, value] of Object.entries(s)) {
    const field = form.elements.namedItem(key);
    if (field instanceof HTMLInputElement && field.type === 'checkbox') field.checked = value === true;
    else if (field instanceof HTMLSelectElement) {
      // A p from the URL that the menu lacks gets its own entry.
      if (![...field.options].some((o) => o.value === String(value))) field.add(new Option(String(value), String(value)));
      field.value = String(value);
    } else if (field instanceof HTMLInputElement) field.value = value === null ? (key === 'threads' ? 'auto' : '') : String(value);
  }
}

/** The form's fields as [name, text] pairs (an unchecked box is left out: its default, off, applies). */
export function formFields(form: HTMLFormElement): [string, string][] {
  return [...new FormData(form)].map(([k, v]) => [k, String(v)]);
}

export function setFormEnabled(form: HTMLFormElement, enabled: boolean): void {
  for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = !enabled;
}

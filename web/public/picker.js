// The group picker: live "N selected" counter, Select all, the heads-up past 100, and a
// confirmation before unsyncing a saved group. Without this script the form still works.
// Listeners sit on the document: the form may arrive later, swapped in by htmx while loading.
(() => {
  const CONFIRM = "Unsyncing a group removes its members from Hook unless they're also in another synced group.";
  const form = () => document.getElementById('picker-form');
  const boxes = () => [...(form()?.querySelectorAll('input[type=checkbox][name=group]') ?? [])];

  const update = () => {
    const picker = form();
    if (!picker) return;
    const ids = new Set(boxes().filter((box) => box.checked).map((box) => box.value));
    document.getElementById('selected-count').textContent = String(ids.size);
    document.getElementById('large-heads-up').hidden = ids.size <= Number(picker.dataset.large || 100);
    document.getElementById('select-all').hidden = false;
  };

  document.addEventListener('change', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== 'group' || !box.form || box.form.id !== 'picker-form') return;
    if (!box.checked && box.dataset.saved === 'true' && !window.confirm(CONFIRM)) box.checked = true;
    // A group can appear twice (in the list and in search results): keep both boxes in step.
    for (const twin of boxes()) if (twin.value === box.value) twin.checked = box.checked;
    update();
  });

  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element) || event.target.id !== 'select-all') return;
    const list = boxes();
    const turnOn = list.some((box) => !box.checked);
    if (!turnOn && list.some((box) => box.dataset.saved === 'true') && !window.confirm(CONFIRM)) return;
    for (const box of list) box.checked = turnOn;
    update();
  });

  document.addEventListener('submit', (event) => {
    if (!(event.target instanceof HTMLFormElement) || event.target.id !== 'picker-form') return;
    // Duplicate boxes would send an id twice; the server dedupes, but keep the request clean.
    const seen = new Set();
    for (const box of boxes()) {
      if (box.checked && seen.has(box.value)) box.disabled = true;
      if (box.checked) seen.add(box.value);
    }
    const button = document.getElementById('continue');
    button.classList.add('htmx-request');
    button.setAttribute('aria-disabled', 'true');
  });

  document.addEventListener('htmx:afterSettle', update);
  document.addEventListener('DOMContentLoaded', update);
  update();
})();

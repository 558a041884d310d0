// The group picker: live "N selected" counter, Select all, the heads-up past 100, and a
// confirmation before unsyncing a saved group. Without this script the form still works.
(() => {
  const form = document.getElementById('picker-form');
  if (!form) return;
  const large = Number(form.dataset.large || 100);
  const counter = document.getElementById('selected-count');
  const headsUp = document.getElementById('large-heads-up');
  const selectAll = document.getElementById('select-all');
  const boxes = () => [...form.querySelectorAll('input[type=checkbox][name=group]')];

  const update = () => {
    const ids = new Set(boxes().filter((box) => box.checked).map((box) => box.value));
    counter.textContent = String(ids.size);
    headsUp.hidden = ids.size <= large;
  };

  // A group can appear twice (in the list and in search results): keep both boxes in step.
  form.addEventListener('change', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== 'group') return;
    if (!box.checked && box.dataset.saved === 'true') {
      const ok = window.confirm("Unsyncing a group removes its members from Hook unless they're also in another synced group.");
      if (!ok) box.checked = true;
    }
    for (const twin of boxes()) if (twin.value === box.value) twin.checked = box.checked;
    update();
  });

  selectAll.hidden = false;
  selectAll.addEventListener('click', () => {
    const list = boxes();
    const turnOn = list.some((box) => !box.checked);
    if (!turnOn && list.some((box) => box.dataset.saved === 'true')) {
      const ok = window.confirm("Unsyncing a group removes its members from Hook unless they're also in another synced group.");
      if (!ok) return;
    }
    for (const box of list) box.checked = turnOn;
    update();
  });

  // Duplicate boxes would send an id twice; the server dedupes, but keep the request clean.
  form.addEventListener('submit', () => {
    const seen = new Set();
    for (const box of boxes()) {
      if (box.checked && seen.has(box.value)) box.disabled = true;
      if (box.checked) seen.add(box.value);
    }
    const button = document.getElementById('continue');
    button.classList.add('htmx-request');
    button.setAttribute('aria-disabled', 'true');
  });

  document.body.addEventListener('htmx:afterSwap', update);
  update();
})();

// The group picker: live "N selected" counter, Select all, the heads-up past 100, and a
// confirmation before unsyncing a saved group. Without this script the form still works.
// Listeners sit on the document: the form may arrive later, swapped in by htmx while loading.
(() => {
  const form = () => document.getElementById('picker-form');
  const boxes = () => [...(form()?.querySelectorAll('input[type=checkbox][name=group]') ?? [])];
  const inResults = (box) => Boolean(box.closest('#search-results'));
  const nameOf = (box) => box.closest('tr')?.querySelector('label')?.getAttribute('title') ?? box.value;
  const membersOf = (box) => box.closest('tr')?.querySelector('td:nth-of-type(2)')?.textContent?.trim() ?? '';
  const confirmUnsync = (list) => {
    const names = list.map((box) => `${nameOf(box)}${membersOf(box) && membersOf(box) !== '—' ? ` (${membersOf(box)} members)` : ''}`);
    const what = names.length === 1 ? names[0] : `${names.length} saved groups: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`;
    return window.confirm(`Unsync ${what}? Their members leave Hook unless they're also in another synced group; the preview shows who.`);
  };

  /** A pick from search results that the list does not show is kept in "Picked from search". */
  const keepPick = (box) => {
    const elsewhere = boxes().some((other) => other !== box && other.value === box.value && !inResults(other));
    if (!box.checked || elsewhere) return;
    const item = document.createElement('li');
    const label = document.createElement('label');
    const kept = document.createElement('input');
    kept.type = 'checkbox';
    kept.name = 'group';
    kept.value = box.value;
    kept.checked = true;
    label.append(kept, ` ${nameOf(box)}`);
    item.append(label);
    document.getElementById('picked-list').append(item);
    document.getElementById('picked-from-search').hidden = false;
  };

  const update = () => {
    const picker = form();
    if (!picker) return;
    const ids = new Set(boxes().filter((box) => box.checked).map((box) => box.value));
    // Fresh search results show what is already picked.
    for (const box of boxes()) if (inResults(box) && ids.has(box.value)) box.checked = true;
    document.getElementById('selected-count').textContent = String(ids.size);
    document.getElementById('large-heads-up').hidden = ids.size <= Number(picker.dataset.large || 100);
    document.getElementById('select-all').hidden = false;
  };

  document.addEventListener('change', (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.name !== 'group' || !box.form || box.form.id !== 'picker-form') return;
    if (!box.checked && box.dataset.saved === 'true' && !confirmUnsync([box])) box.checked = true;
    if (inResults(box)) keepPick(box);
    // A group can appear twice (in the list and in search results): keep both boxes in step.
    for (const twin of boxes()) if (twin.value === box.value) twin.checked = box.checked;
    update();
  });

  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element) || event.target.id !== 'select-all') return;
    const list = boxes();
    const turnOn = list.some((box) => !box.checked);
    const saved = list.filter((box) => box.dataset.saved === 'true' && !inResults(box));
    if (!turnOn && saved.length > 0 && !confirmUnsync(saved)) return;
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

  // Enter in the search box searches here, in place (without JavaScript it submits the search form).
  document.addEventListener('keydown', (event) => {
    const input = event.target;
    if (event.key !== 'Enter' || !(input instanceof HTMLInputElement) || input.name !== 'q' || input.form?.id !== 'group-search') return;
    event.preventDefault();
    input.dispatchEvent(new Event('search', { bubbles: true }));
  });

  document.addEventListener('htmx:afterSettle', update);
  document.addEventListener('DOMContentLoaded', update);
  update();
})();

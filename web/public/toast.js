// Toasts: a Dismiss button (shown only when this script runs), and Escape closes the newest.
(() => {
  const arm = () => {
    for (const button of document.querySelectorAll('[data-toast] [data-dismiss]')) button.hidden = false;
  };
  document.addEventListener('click', (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-dismiss]') : null;
    button?.closest('[data-toast]')?.remove();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    const toasts = document.querySelectorAll('[data-toast]');
    toasts[toasts.length - 1]?.remove();
  });
  document.addEventListener('DOMContentLoaded', arm);
  document.addEventListener('htmx:afterSettle', arm);
})();

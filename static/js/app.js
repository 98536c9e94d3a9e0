// Behaviour every page shares, wired up from data-* attributes: the Content-Security-Policy
// forbids inline scripts and on*= handlers, so templates declare what they need and this file,
// loaded from our own origin, does it. Listeners sit on the document, so content that htmx
// swaps in later works the same.
(() => {
  // <form data-confirm="Question?">: ask before submitting; Cancel keeps the page as it is.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // <input type="checkbox" data-select-all="selected">: ticks or clears every checkbox named
  // "selected" in the same form (the whole page when it is in none).
  document.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
    const scope = box.form || document;
    scope.querySelectorAll("input[type=checkbox]").forEach((other) => {
      if (other.name === box.dataset.selectAll) other.checked = box.checked;
    });
  });

  // <button data-set-field="party" data-set-value="42">: fills the form's field before the
  // button submits it (a button can carry only one name=value of its own).
  document.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest("[data-set-field]") : null;
    if (!button || !button.form) return;
    const field = button.form.elements.namedItem(button.dataset.setField);
    if (field) field.value = button.dataset.setValue;
  });

  window.appReady = true;
})();

// Review page: the survivor is always one of the ticked parties, and the radio shows the
// survivor the preview computed. Unticking a party disables its survivor radio (unticking the
// survivor clears it: the server then picks the default survivor, and the radio follows).
// With fewer than two parties ticked, Merge is disabled.
(() => {
  const form = document.getElementById("review-form");
  if (!form) return;
  const radioOf = (partyId) => form.querySelector(`input[name="survivor"][value="${partyId}"]`);

  const sync = () => {
    const boxes = [...form.querySelectorAll('input[name="members"]')];
    const merge = form.querySelector('button[value="merge"]');
    if (merge) {  // a merge needs two ticked parties (the preview says so too)
      const few = boxes.filter((box) => box.checked).length < 2;
      merge.disabled = few;
      merge.title = few ? "Tick at least two parties to merge" : "";
    }
    for (const box of boxes) {
      const radio = radioOf(box.value);
      if (!radio || box.disabled) continue;
      radio.disabled = !box.checked;
      if (!box.checked) radio.checked = false;
      radio.closest("th")?.classList.toggle("left-out", !box.checked);
    }
  };

  // Capture phase: runs before htmx serializes the form for the preview.
  form.addEventListener("change", (event) => {
    if (event.target instanceof HTMLInputElement && event.target.name === "members") sync();
  }, true);

  document.body.addEventListener("htmx:afterSwap", (event) => {
    const preview = event.detail?.target;
    if (!preview || preview.id !== "preview") return;
    const golden = preview.querySelector("[data-survivor]");
    const radio = golden ? radioOf(golden.dataset.survivor) : null;
    if (radio && !radio.disabled) radio.checked = true;
    const summary = document.getElementById("conflict-summary");  // 5+ parties: the header's count
    if (summary) {
      const count = preview.querySelectorAll('[data-testid="conflicts"] li').length;
      summary.textContent = `${count} conflict${count === 1 ? "" : "s"}`;
      summary.classList.toggle("none", count === 0);
    }
  });

  sync();
  window.reviewMembersReady = true;
})();

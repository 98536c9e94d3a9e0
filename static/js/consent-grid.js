// The consent grid: a cell whose state is being changed is marked, and the save button counts
// the changes, so a marketer sees what one save will record (it works without this too).
(() => {
  const form = document.getElementById("consent-form");
  const save = form && form.querySelector("[data-testid='consent-save']");
  if (!save) return;
  const label = save.textContent;
  const update = () => {
    let count = 0;
    form.querySelectorAll("select.consent-change").forEach((select) => {
      const changed = select.value !== "";
      select.closest("td").classList.toggle("consent-changed", changed);
      if (changed) count += 1;
    });
    save.textContent = count > 1 ? `Save ${count} changes` : count === 1 ? "Save 1 change" : label;
  };
  form.addEventListener("change", update);
  update();
})();

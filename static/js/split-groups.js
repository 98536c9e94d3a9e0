// Review page, "Split into groups": keys a-h put the focused party in that group and move
// focus to the next party; a line under the table says what the split will do.
(() => {
  const form = document.getElementById("split-form");
  if (!form) return;
  const rows = Array.from(form.querySelectorAll("tr[data-party]"));
  const summary = document.getElementById("split-summary");

  const describe = () => {
    const groups = new Map();
    for (const row of rows) {
      const checked = row.querySelector("input[type=radio]:checked");
      if (!checked) continue;
      if (!groups.has(checked.value)) groups.set(checked.value, []);
      groups.get(checked.value).push("#" + row.dataset.party);
    }
    const letters = Array.from(groups.keys()).sort();
    if (letters.length < 2) {
      summary.textContent = "All parties are in one group: put at least one party in another group.";
      return;
    }
    summary.textContent = letters.map((letter) => {
      const members = groups.get(letter);
      return `Group ${letter}: ${members.join(", ")}` + (members.length > 1 ? " (merged)" : " (stays alone)");
    }).join(" · ") + " — pairs across groups: not a match.";
  };

  form.addEventListener("change", describe);
  form.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const row = event.target.closest && event.target.closest("tr[data-party]");
    if (!row) return;
    const letter = event.key.length === 1 ? event.key.toUpperCase() : "";
    const radio = letter && row.querySelector(`input[type=radio][value="${letter}"]`);
    if (!radio) return;
    event.preventDefault();
    event.stopPropagation();  // not a review-page key while choosing groups
    radio.checked = true;
    describe();
    const next = rows[rows.indexOf(row) + 1];
    const target = next ? next.querySelector(`input[type=radio][value="${letter}"]`) : form.querySelector("button[type=submit]");
    (target || radio).focus();
  });
  document.getElementById("split-groups")?.addEventListener("toggle", (event) => {
    if (event.target.open) (rows[0]?.querySelector("input[type=radio]:checked"))?.focus();
  });
  describe();
  window.splitGroupsReady = true;
})();

// Review page keys: m merge, n not a match, s skip, j/k next/previous, ? help.
(() => {
  const help = document.getElementById("help");
  document.getElementById("help-toggle")?.addEventListener("click", () => help.showModal());
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const t = event.target;
    if (t && (t.tagName === "INPUT" && t.type !== "checkbox" && t.type !== "radio" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable)) return;
    const key = event.key;
    if (key === "?") { event.preventDefault(); help.open ? help.close() : help.showModal(); return; }
    if (help.open) return;  // keys act on the page only once the help is closed
    if (key === "j" || key === "k") {
      const link = document.getElementById(key === "j" ? "next-link" : "prev-link");
      if (link) { event.preventDefault(); window.location.assign(link.href); }
      return;
    }
    const button = document.querySelector(`[data-key="${key.toLowerCase()}"]`);
    if (button && !button.disabled) {
      event.preventDefault();
      button.click();
    }
  });
  window.reviewKeysReady = true;
})();

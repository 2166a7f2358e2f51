// Small helpers for the admin pages; every page works without them.
"use strict";

document.addEventListener("click", (event) => {
  const trigger = event.target.closest("[data-confirm]");
  if (trigger && !window.confirm(trigger.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  const form = all.closest("form");
  for (const box of form.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`)) {
    box.checked = all.checked;
  }
});

// Broadcast progress refreshes itself until everything has been sent.
const progress = document.querySelector("[data-progress-url]");
if (progress) {
  const refresh = async () => {
    const answer = await fetch(progress.dataset.progressUrl, { credentials: "same-origin" });
    if (!answer.ok) return;
    const data = await answer.json();
    progress.querySelector('[data-field="recipients"]').textContent = data.recipients;
    progress.querySelector('[data-field="status"]').textContent = data.status_label;
    for (const [key, value] of Object.entries(data.progress)) {
      const cell = progress.querySelector(`[data-progress="${key}"]`);
      if (cell) cell.textContent = value;
    }
    if (data.status !== "failed" && (data.status !== "sent" || data.progress.pending + data.progress.sending > 0)) {
      window.setTimeout(refresh, 1500);
    }
  };
  window.setTimeout(refresh, 1000);
}

// A table wider than the screen scrolls sideways; keyboard users reach it with Tab (axe's
// scrollable-region-focusable).
for (const region of document.querySelectorAll("table.list, .table-scroll")) {
  if (region.scrollWidth > region.clientWidth) region.tabIndex = 0;
}

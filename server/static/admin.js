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
  const labels = { queued: "排队中", expanding: "正在生成", sent: "已全部生成", failed: "生成失败" };
  const refresh = async () => {
    const answer = await fetch(progress.dataset.progressUrl, { credentials: "same-origin" });
    if (!answer.ok) return;
    const data = await answer.json();
    progress.querySelector('[data-field="recipients"]').textContent = data.recipients;
    progress.querySelector('[data-field="status"]').textContent = labels[data.status] || data.status;
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

// Batch forms: the button shows how many rows are selected and is disabled with none; its
// confirmation names the count and the chosen action. Without script the server refuses an
// empty selection itself.
const selectedIn = (form, name) => form.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`).length;
const countBatch = (form) => {
  for (const button of form.querySelectorAll("[data-batch-count]")) {
    const n = selectedIn(form, button.dataset.batchCount);
    button.disabled = n === 0;
    const shown = button.querySelector("[data-selected-count]");
    if (shown) shown.textContent = `（${n} 份）`;
  }
};
document.addEventListener("change", (event) => {
  const form = event.target.closest("form");
  if (form) countBatch(form);
});
for (const button of document.querySelectorAll("[data-batch-count]")) countBatch(button.form);
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-batch-count]");
  if (!button) return;
  const n = selectedIn(button.form, button.dataset.batchCount);
  const action = button.form.querySelector("select[name=action]");
  const label = action ? action.selectedOptions[0].textContent : "办理";
  if (n === 0 || !window.confirm(button.dataset.confirmCount.replace("{n}", n).replace("{action}", label))) {
    event.preventDefault();
  }
});

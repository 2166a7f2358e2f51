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

// A preset reason picked from the list fills the text box beside it, to be edited if need be.
document.addEventListener("change", (event) => {
  const pick = event.target.closest("select[data-fills]");
  if (!pick || !pick.value) return;
  const box = pick.form.querySelector(`textarea[name="${pick.dataset.fills}"]`);
  box.value = pick.value;
  box.focus();
});

// Keyboard shortcuts, listed in the page's 快捷键 box ("?" opens it): j / k follow the next and
// previous links (a[rel=next], a[rel=prev]: the next case, or the next page of a list); a button
// marked data-shortcut is pressed by its key exactly as a click would, so its confirmation still
// asks; a form whose reason is still empty gets the cursor in its text box instead. Ctrl+Enter in
// a text box presses that form's button. Keys typed into a field are never taken as shortcuts.
const shortcutHelp = document.getElementById("shortcuts");
if (shortcutHelp) {
  const list = shortcutHelp.querySelector("[data-shortcut-list]");
  for (const button of document.querySelectorAll("[data-shortcut]")) {
    const key = document.createElement("dt");
    key.innerHTML = "<kbd></kbd>";
    key.firstChild.textContent = button.dataset.shortcut;
    const what = document.createElement("dd");
    what.textContent = button.dataset.shortcutLabel || button.textContent.trim();
    list.append(key, what);
  }
}

const isTyping = (element) =>
  element instanceof HTMLElement && (element.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(element.tagName));

const emptyReason = (form) => {
  if (!form) return null;
  const box = form.querySelector("textarea");
  const pick = form.querySelector("select[data-fills]");
  return box && !box.value.trim() && !(pick && pick.value) ? box : null;
};

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.altKey || event.metaKey) return;
  if (event.ctrlKey) {
    if (event.key === "Enter" && event.target.tagName === "TEXTAREA" && event.target.form) {
      const button = event.target.form.querySelector("button[type=submit], button:not([type])");
      if (button) {
        event.preventDefault();
        button.click();
      }
    }
    return;
  }
  if (isTyping(event.target)) return;
  if (event.key === "?" && shortcutHelp) {
    event.preventDefault();
    shortcutHelp.open = !shortcutHelp.open;
    if (shortcutHelp.open) shortcutHelp.scrollIntoView({ block: "nearest" });
    return;
  }
  const rel = { j: "next", k: "prev" }[event.key];
  if (rel) {
    const link = document.querySelector(`a[rel~="${rel}"]`);
    if (link) {
      event.preventDefault();
      link.click();
    }
    return;
  }
  const button = [...document.querySelectorAll("[data-shortcut]")].find((b) => b.dataset.shortcut === event.key);
  if (!button) return;
  event.preventDefault();
  const box = emptyReason(button.form);
  if (box) box.focus();
  else button.click();
});

// A table wider than the screen scrolls sideways; keyboard users reach it with Tab (axe's
// scrollable-region-focusable).
for (const region of document.querySelectorAll("table.list, .table-scroll")) {
  if (region.scrollWidth > region.clientWidth) region.tabIndex = 0;
}

// Glue that htmx does not express: copy to clipboard, the edit form's keys
// (Escape cancels, Ctrl/Cmd+Enter in a textarea saves), and keeping what was
// typed when the form is replaced.

function announce(text) {
  const status = document.getElementById("secrets-status");
  if (status) status.textContent = text;
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-from]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyFrom);
  try {
    await navigator.clipboard.writeText(source.textContent);
    announce("Copied to the clipboard.");
  } catch (error) {
    announce("Could not copy: select the value and copy it yourself.");
  }
});

document.addEventListener("keydown", (event) => {
  const form = event.target.closest && event.target.closest(".secret-form");
  if (!form) return;
  if (event.key === "Escape") {
    const cancel = form.querySelector(".secret-cancel");
    if (cancel) {
      event.preventDefault();
      cancel.click();
    }
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
    event.preventDefault();
    form.requestSubmit();
  }
});

// What was typed, carried into the form that replaces the edit form: after a
// validation error (422: the page never sends a typed value back), and after a
// switch between the single-line and the multi-line value field.
let carried = null;
let pasted = null; // a paste of several lines that made the switch (below)
document.addEventListener("htmx:before:swap", (event) => {
  const { ctx } = event.detail;
  const source = ctx.sourceElement;
  if (!ctx.response || !source || !source.matches) return;
  let form = null;
  if (source.matches(".secret-form") && ctx.response.status === 422) form = source;
  else if (source.matches("[data-lines]")) form = source.form;
  if (!form) return;
  carried = [...form.querySelectorAll("[name=secret], [name=note]")]
    .map((field) => ({ id: field.id, value: pasted && pasted.id === field.id ? pasted.value : field.value }))
    .filter((field) => field.value);
  pasted = null;
});
document.addEventListener("htmx:after:swap", () => {
  if (!carried) return;
  for (const { id, value } of carried) {
    const field = document.getElementById(id);
    // A password input drops line breaks: it only gets a value it keeps exactly.
    if (field && (field.tagName === "TEXTAREA" || !/[\r\n]/.test(value))) field.value = value;
  }
  carried = null;
});

// Several lines pasted into the single-line field would lose their line breaks
// (a PEM key, a JSON file): switch to the multi-line field, carrying the paste.
document.addEventListener("paste", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.name !== "secret" || !input.form) return;
  const text = event.clipboardData ? event.clipboardData.getData("text") : "";
  if (!/[\r\n]/.test(text.trim())) return; // one line, perhaps with a newline at the end
  const switcher = input.form.querySelector("[data-lines]");
  if (!switcher) return;
  event.preventDefault();
  const { value, selectionStart, selectionEnd } = input;
  pasted = { id: input.id, value: value.slice(0, selectionStart) + text + value.slice(selectionEnd) };
  announce("That paste has several lines: switched to a multi-line value.");
  switcher.click();
});

// Glue that htmx does not express: copy to clipboard, the edit form's keys
// (Escape cancels, Ctrl/Cmd+Enter in the note saves), and keeping a typed
// value across a validation error.

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

// A form sent back with errors (422) never contains the typed value: carry it
// over from the form being replaced, so nothing typed is lost.
let carried = null;
document.addEventListener("htmx:before:swap", (event) => {
  const { ctx } = event.detail;
  if (!ctx.response || ctx.response.status !== 422) return;
  const input = ctx.sourceElement.querySelector && ctx.sourceElement.querySelector("input[name=secret]");
  carried = input && input.value ? { id: input.id, value: input.value } : null;
});
document.addEventListener("htmx:after:swap", () => {
  if (!carried) return;
  const input = document.getElementById(carried.id);
  if (input) input.value = carried.value;
  carried = null;
});

// Glue that htmx does not express: copy to clipboard, and the edit form's keys
// (Escape cancels, Ctrl/Cmd+Enter in the note saves).

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

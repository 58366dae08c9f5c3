// Glue that htmx does not express: copying to the clipboard, keys (Escape cancels
// a form or a confirmation, Ctrl/Cmd+Enter in a textarea saves), the note's
// character count, keeping focus and what was typed across swaps, and clearing
// the last change's message when the next request starts.

function announce(text, failed = false) {
  const status = document.getElementById("secrets-status");
  if (!status) return;
  if (failed) {
    const message = document.createElement("p");
    message.className = "message-error";
    message.textContent = text;
    status.replaceChildren(message);
  } else {
    status.textContent = text;
  }
}

// Copy. In a revealed value, the text shown; in a masked row, the value fetched
// by a POST (allowed and audited as a reveal) and never shown. Without
// JavaScript that second button submits the Reveal form instead.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-from], [data-copy]");
  if (!button) return;
  event.preventDefault();
  const name = (button.getAttribute("aria-label") || "").replace(/^Copy /, "") || "the value";
  clearResults();
  try {
    if (button.dataset.copyFrom) {
      await navigator.clipboard.writeText(document.getElementById(button.dataset.copyFrom).textContent);
    } else {
      // The value as a promise, so the clipboard write starts within the click.
      const value = fetchValue(button.dataset.copy);
      try {
        await navigator.clipboard.write([new ClipboardItem({ "text/plain": value })]);
      } catch (error) {
        await value; // the server's refusal, if that was the cause
        throw error;
      }
    }
    announce(`Copied ${name} to the clipboard.`);
  } catch (error) {
    announce(error.fromServer || `Could not copy ${name}: reveal it and copy it yourself.`, true);
  }
});

async function fetchValue(url) {
  const response = await fetch(url, { method: "POST", headers: { "HX-Request": "true" } });
  if (!response.ok) {
    // The server's message (a 429 says when to try again), as the page's notice.
    const error = new Error(response.statusText);
    const text = await response.text();
    error.fromServer = new DOMParser().parseFromString(text, "text/html").body.textContent.trim();
    throw error;
  }
  return new Blob([await response.text()], { type: "text/plain" });
}

// The editor's Cancel: it closes where it is, and focus goes back to Edit.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-close]");
  if (!button) return;
  const body = button.closest("tbody");
  button.closest("tr").remove();
  const edit = body && body.querySelector("[data-edit]");
  if (edit) edit.focus();
});

document.addEventListener("keydown", (event) => {
  const form = event.target.closest && event.target.closest(".secret-form, .secret-confirm");
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

// The note's count: "12/200 characters" (maxlength stops it at the limit).
document.addEventListener("input", (event) => {
  const field = event.target;
  if (!(field instanceof HTMLTextAreaElement) || !field.maxLength || field.maxLength < 0) return;
  const count = field.form && field.form.querySelector("[data-count]");
  if (count) count.textContent = `${field.value.length}/${field.maxLength} characters`;
});

// A new request clears the last change's message (below). An editor already
// open is focused instead of opened twice.
document.addEventListener("htmx:before:request", (event) => {
  const source = event.detail.ctx.sourceElement;
  if (source && source.matches && source.matches("[data-edit]")) {
    const open = source.closest("tbody").querySelector(".secret-editing [name=secret]");
    if (open) {
      event.preventDefault();
      open.focus();
      return;
    }
  }
  clearResults();
});

// The last change's message is stale once another request starts: the notice
// empties, and rows' messages are hidden rather than removed, since the request
// may come from a message's own Undo button.
function clearResults() {
  announce("");
  for (const row of document.querySelectorAll(".secret-feedback")) row.hidden = true;
}

// What was typed, carried into the form that replaces the edit form: after a
// validation error (422: the page never sends a typed value back), and after a
// switch between the single-line and the multi-line value field. And focus,
// kept where it was when a swap takes away the focused element without giving
// focus to another: a revealed value hiding itself again goes back to Reveal;
// a status link or a page link goes to the same link in the new list.
let carried = null;
let pasted = null; // a paste of several lines that made the switch (below)
let refocus = null;
let afterSwap = null; // a message to announce once the swap is done
document.addEventListener("htmx:before:swap", (event) => {
  const { ctx } = event.detail;
  const target = ctx.target;
  const focused = document.activeElement;
  refocus = target && target.contains && target.contains(focused)
    ? {
        target,
        id: target.id,
        // From a revealed value (its Copy or Hide) back to Reveal, the first control of the masked cell.
        name: focused.closest("[data-remask]") ? null : accessibleText(focused),
        href: focused.getAttribute("href"),
      }
    : null;
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
  const lost = !document.activeElement || document.activeElement === document.body;
  if (refocus && lost) {
    // (htmx already focuses an [autofocus] in what it swapped in: this is for when there is none.)
    // The element swapped in, or the one it replaced (same id) when it was swapped out.
    const within = refocus.target.isConnected ? refocus.target : refocus.id && document.getElementById(refocus.id);
    const controls = within ? [...within.querySelectorAll("button, a[href], input, textarea")] : [];
    const control =
      controls.find((c) => refocus.href && c.getAttribute("href") === refocus.href) ||
      controls.find((c) => refocus.name && accessibleText(c) === refocus.name) ||
      controls[0];
    if (control) control.focus();
  }
  refocus = null;
  // A change's result at its row is said in the page's notice too (in view, and announced).
  const feedback = document.querySelector(".secret-feedback:not([hidden]) td");
  if (feedback) {
    const text = [...feedback.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE);
    announce(text.map((node) => node.textContent).join(" ").trim(), feedback.parentElement.matches(".secret-failed"));
  }
  if (afterSwap) announce(afterSwap);
  afterSwap = null;
  if (!carried) return;
  for (const { id, value } of carried) {
    const field = document.getElementById(id);
    // A password input drops line breaks: it only gets a value it keeps exactly.
    if (field && (field.tagName === "TEXTAREA" || !/[\r\n]/.test(value))) {
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true })); // the note's count
    }
  }
  carried = null;
});

function accessibleText(element) {
  return (element.getAttribute("aria-label") || element.textContent || "").trim();
}

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
  afterSwap = "That paste has several lines: switched to a multi-line value.";
  switcher.click();
});

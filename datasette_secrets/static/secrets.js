// Glue that htmx does not express: copying to the clipboard, keys (Escape closes
// what a row has open, Ctrl/Cmd+Enter in a textarea saves), the note's character
// count, the value field's Show/Hide, keeping focus and what was typed across
// swaps, the editor in view, and clearing the last change's message when the
// next request starts.

// The page's notice. quiet: said to screen readers only, since the same words
// are in view at the row (a message shows once, where the eye is).
function announce(text, failed = false, quiet = false) {
  const status = document.getElementById("secrets-status");
  if (!status) return;
  status.classList.toggle("secrets-status-quiet", quiet);
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
  if (event.key === "Escape") {
    if (closeInRow(event.target)) event.preventDefault();
    return;
  }
  const form = event.target.closest && event.target.closest(".secret-form, .secret-confirm");
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.tagName === "TEXTAREA") {
    event.preventDefault();
    form.requestSubmit();
  }
});

// Escape closes what a row has open, the part holding focus first: the editor, a
// confirmation, the history, a Test result or a message. Focus goes back to the
// button that opened it (the Cancel and History requests say so with ?focus=).
function closeInRow(from) {
  const body = from.closest && from.closest("tbody.secret");
  if (!body) return false;
  const here = from.closest("tr");
  const parts = [
    here,
    ...body.querySelectorAll("tr.secret-editing, tr.secret-open:not(.secret-history), tr.secret-history, tr.secret-feedback"),
  ];
  return parts.some((part) => part && part.parentElement === body && close(part, body, here === part));
}

function close(part, body, focusInside) {
  const cancel = part.querySelector("[data-close], .secret-confirm .secret-cancel");
  if (cancel) {
    cancel.click(); // a restore's confirmation inside the history closes before the history
    return true;
  }
  if (part.matches(".secret-history")) {
    body.querySelector("button[aria-expanded=true]").click();
    return true;
  }
  if (part.matches(".secret-feedback") && !part.hidden) {
    part.hidden = true;
    const test = part.querySelector(".secret-check-ok, .secret-check-failed");
    const back = test ? body.querySelector("button[aria-label^='Test ']") : focusInside && body.querySelector("[data-edit], button");
    if (back) back.focus();
    return true;
  }
  return false;
}

// The value field's Show/Hide, to check a pasted key before saving (it is never
// filled with the stored value). Added here: without JavaScript it could not work.
function addShowButtons(root) {
  for (const input of root.querySelectorAll(".secret-form input[name=secret]")) {
    // Beside the label, before the field: Tab still goes from the value to the note.
    const head = input.form.querySelector(".secret-value-head");
    if (!head || head.querySelector("[data-show]")) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.show = "";
    button.setAttribute("aria-controls", input.id);
    head.append(button);
    showValue(button, false);
  }
}

function showValue(button, shown) {
  document.getElementById(button.getAttribute("aria-controls")).type = shown ? "text" : "password";
  button.textContent = shown ? "Hide" : "Show";
  button.setAttribute("aria-label", shown ? "Hide the value" : "Show the value");
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-show]");
  if (button) showValue(button, button.textContent === "Show");
});
document.addEventListener("DOMContentLoaded", () => addShowButtons(document));

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
  document.getElementById("secrets-status")?.classList.remove("secrets-status-quiet");
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
document.addEventListener("htmx:after:swap", (event) => {
  addShowButtons(document);
  bringEditorIntoView(event.detail.ctx.target);
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
  // A change's result at its row is announced; the notice shows it too only when the row is out of view.
  const feedback = document.querySelector(".secret-feedback:not([hidden]) td");
  if (feedback) {
    const words = feedback.cloneNode(true);
    for (const form of words.querySelectorAll("form")) form.remove(); // Undo
    announce(words.textContent.replace(/\s+/g, " ").trim(), feedback.parentElement.matches(".secret-failed"), inView(feedback));
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

function inView(element) {
  const box = element.getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
}

// An editor just opened (or switched shape) comes into view, Save included, and the
// row with it when both fit; the page does not move when all of it is in view already.
function bringEditorIntoView(target) {
  const body = target && (target.isConnected ? target : document.getElementById(target.id));
  const editor = body && body.closest && body.closest("tbody.secret") && body.closest("tbody.secret").querySelector("tr.secret-editing");
  if (!editor || inView(editor)) return;
  const row = editor.closest("tbody");
  const whole = row.getBoundingClientRect().height <= window.innerHeight;
  (whole ? row : editor).scrollIntoView({ block: "nearest" });
}

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

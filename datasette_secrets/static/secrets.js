// Glue htmx does not express. The server renders every state of a row (the editor, a
// confirmation, the history, a change's result, its notice as an <hx-partial>), says
// where focus goes (autofocus), and rows swap by morphing, which keeps what was typed.
// Here: the clipboard, Show/Hide, Escape, Ctrl+Enter, the note's count, and the focus
// or typed value a swap would otherwise lose.

// The page's notice, for what happens here alone (a copy); the server sends the rest.
function announce(text, failed = false) {
  const message = Object.assign(document.createElement("p"), { textContent: text, className: failed ? "message-error" : "" });
  document.getElementById("secrets-status")?.replaceChildren(message);
}

// Once another request starts the last result is stale: rows' results are hidden, not
// removed (the request may come from a result's own Undo).
function clearResults() {
  document.getElementById("secrets-status")?.replaceChildren();
  for (const row of document.querySelectorAll(".secret-feedback")) row.hidden = true;
}

// Copy: a revealed value's text; in a masked row, the value a POST fetches (allowed and
// audited as a reveal), never shown. Without JavaScript that button reveals instead.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy-from], [data-copy]");
  if (!button) return;
  event.preventDefault();
  const name = button.getAttribute("aria-label").replace(/^Copy /, "");
  clearResults();
  try {
    if (button.dataset.copyFrom) {
      await navigator.clipboard.writeText(document.getElementById(button.dataset.copyFrom).textContent);
    } else {
      const value = fetchValue(button.form.action.replace(/reveal$/, "copy")); // a promise: the write starts within the click
      await navigator.clipboard.write([new ClipboardItem({ "text/plain": value })]).catch(async (error) => {
        throw (await value, error); // the server's refusal first, if that was the cause
      });
    }
    announce(`Copied ${name} to the clipboard.`);
  } catch (error) {
    announce(error.fromServer || `Could not copy ${name}: reveal it and copy it yourself.`, true);
  }
});

async function fetchValue(url) {
  const response = await fetch(url, { method: "POST", headers: { "HX-Request": "true" } });
  const text = await response.text();
  if (response.ok) return new Blob([text], { type: "text/plain" });
  // The server's words (a 429 says when to try again).
  throw Object.assign(new Error(), { fromServer: new DOMParser().parseFromString(text, "text/html").body.textContent.trim() });
}

// Escape closes what a row has open, the part holding focus first, with its close control
// (Cancel, or History pressed), and the server puts focus back on the button that opened
// it. A change's result just hides, focus back on that button. Ctrl/Cmd+Enter saves.
document.addEventListener("keydown", (event) => {
  const body = event.target.closest?.("tbody.secret");
  if (event.key === "Escape" && body) {
    const parts = [event.target.closest("tr"), ...body.querySelectorAll(".secret-editing, .secret-deleting, .secret-history")];
    const close = parts.map((part) => part.querySelector("[data-close]") || (part.matches(".secret-history") && body.querySelector("[aria-expanded=true]"))).find(Boolean);
    if (close) close.click();
    else if (body.querySelector(".secret-feedback:not([hidden])")) {
      clearResults();
      (body.querySelector("tr:first-child [autofocus]") || body.querySelector("tr:first-child :is(a, button)"))?.focus();
    } else return;
    event.preventDefault();
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest?.(".secret-form textarea")) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});

// Show/Hide beside the value field's label, to check a pasted key before saving (the
// field is never filled with the stored value): made here, it needs JavaScript anyway.
function addShowButtons() {
  for (const input of document.querySelectorAll(".secret-form input[name=secret]")) {
    const head = input.form.querySelector(".secret-value-head:not(:has([data-show]))");
    const button = head?.appendChild(Object.assign(document.createElement("button"), { type: "button" }));
    if (button) show(Object.assign(button.dataset, { show: "" }) && button, false, input.id);
  }
}

function show(button, shown, id = button.getAttribute("aria-controls")) {
  document.getElementById(id).type = shown ? "text" : "password";
  button.textContent = shown ? "Hide" : "Show";
  button.setAttribute("aria-controls", id);
  button.setAttribute("aria-label", `${button.textContent} the value`);
}

document.addEventListener("click", ({ target }) => target.matches("[data-show]") && show(target, target.textContent === "Show"));
document.addEventListener("DOMContentLoaded", addShowButtons);

// The note's count: "12/200 characters" (maxlength stops it at the limit).
document.addEventListener("input", ({ target }) => {
  const count = target.name === "note" && target.form?.querySelector("[data-count]");
  if (count) count.textContent = `${target.value.length}/${target.maxLength} characters`;
});

// The switch between one line and several changes the value field's tag, which no
// morph keeps: the value is carried across here (and a paste of several lines, below).
let carried = null;
let refocus = null;
document.addEventListener("htmx:before:request", (event) => {
  const source = event.detail.ctx.sourceElement;
  const open = source.matches?.("a.secret-primary") && source.closest("tbody").querySelector(".secret-editing [name=secret]");
  if (open) return event.preventDefault() ?? open.focus(); // an open editor is focused, not opened twice
  if (source.matches?.("[data-lines]")) carried ??= { value: source.form.elements.secret.value };
  clearResults();
});

// Focus a swap took away without giving it to anything else goes back: from a revealed
// value hidden again to Reveal, from a status or page link to that link in the new list.
document.addEventListener("htmx:before:swap", ({ detail: { ctx } }) => {
  const focused = document.activeElement;
  refocus = ctx.target?.contains?.(focused) && { target: ctx.target, href: focused.getAttribute("href"), name: !focused.closest("[data-remask]") && label(focused) };
});

document.addEventListener("htmx:after:swap", ({ detail: { ctx } }) => {
  addShowButtons();
  const body = ctx.target?.closest?.("tbody.secret");
  const editor = body?.isConnected && body.querySelector(".secret-editing");
  if (editor) (body.getBoundingClientRect().height <= innerHeight ? body : editor).scrollIntoView({ block: "nearest" });
  if (refocus && [null, document.body].includes(document.activeElement)) {
    const within = refocus.target.isConnected ? refocus.target : document.getElementById(refocus.target.id);
    const controls = [...(within?.querySelectorAll("a[href], button, input, textarea") || [])];
    (controls.find((c) => refocus.href && c.getAttribute("href") === refocus.href) || controls.find((c) => refocus.name && label(c) === refocus.name) || controls[0])?.focus();
  }
  const field = carried && editor?.querySelector("[name=secret]");
  // A password input drops line breaks: it only gets a value it keeps exactly.
  if (field && (field.matches("textarea") || !/[\r\n]/.test(carried.value))) field.value = carried.value;
  if (carried?.said) announce(carried.said);
  carried = refocus = null;
});

function label(element) {
  return (element.getAttribute("aria-label") || element.textContent).trim();
}

// Several lines pasted into the single-line field would lose their line breaks (a PEM
// key, a JSON file): switch to the multi-line field, carrying the paste.
document.addEventListener("paste", (event) => {
  const { target: input, clipboardData } = event;
  const text = clipboardData?.getData("text") || "";
  const switcher = input.matches("input[name=secret]") && input.form.querySelector("[data-lines]");
  if (!switcher || !/[\r\n]/.test(text.trim())) return; // one line, maybe with a newline at its end
  event.preventDefault();
  const value = input.value.slice(0, input.selectionStart) + text + input.value.slice(input.selectionEnd);
  carried = { value, said: "That paste has several lines: switched to a multi-line value." };
  switcher.click();
});

// Glue htmx does not express: the server renders each state of a row, its notice and its focus.

const status = () => document.getElementById("secrets-status");
const label = (element) => (element.getAttribute("aria-label") || element.textContent).trim();

// The page's notice, for a copy (the server sends every other one as an <hx-partial>);
// quiet: for screen readers only, since the words show where the eye is.
function announce(text, failed = false, quiet = false) {
  status()?.classList.toggle("secrets-status-quiet", quiet);
  status()?.replaceChildren(Object.assign(document.createElement("p"), { textContent: text, className: failed ? "message-error" : "" }));
}

// Results go stale when the next request starts: hidden, not removed (it may be their own Undo).
function clearResults() {
  status()?.classList.remove("secrets-status-quiet");
  status()?.replaceChildren();
  for (const row of document.querySelectorAll(".secret-feedback")) row.hidden = true;
}

// Copy: a revealed value's text, or a masked row's value from .../copy (a reveal, never shown).
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
      const value = fetchValue(button.form.action.replace(/reveal$/, "copy")); // a promise: written within the click
      await navigator.clipboard.write([new ClipboardItem({ "text/plain": value })]).catch(async (error) => {
        throw (await value, error); // the server's refusal first, if that was the cause
      });
    }
    announce(`Copied ${name} to the clipboard.`, false, true);
    const said = (word, mark = "") => Object.assign(button, { textContent: word + mark, ariaLabel: `${word} ${name}` });
    said("Copied", " ✓"); // for two seconds, on the button itself
    setTimeout(() => said("Copy"), 2000);
  } catch (error) {
    const text = error.fromServer || `Could not copy ${name}: reveal it and copy it yourself.`;
    const body = button.closest("tbody.secret"); // the failure in the row's band
    body?.insertAdjacentHTML("beforeend", `<tr class="secret-feedback secret-failed"><td colspan="${body.rows[0].cells.length}"></td></tr>`);
    if (body) body.lastElementChild.cells[0].textContent = text;
    announce(text, true);
  }
});

async function fetchValue(url) {
  const response = await fetch(url, { method: "POST", headers: { "HX-Request": "true" } });
  const text = await response.text();
  if (response.ok) return new Blob([text], { type: "text/plain" });
  throw Object.assign(new Error(), { fromServer: new DOMParser().parseFromString(text, "text/html").body.textContent.trim() }); // a 429 says when
}

// Escape presses the close control of what a row has open (the server refocuses its opener).
document.addEventListener("keydown", (event) => {
  const body = event.target.closest?.("tbody.secret");
  if (event.key === "Escape" && body) {
    const parts = [event.target.closest("tr"), ...body.querySelectorAll(".secret-editing, .secret-deleting, .secret-history")];
    const close = parts.map((part) => part.querySelector("[data-close]") || (part.matches(".secret-history") && body.querySelector("[aria-expanded=true]:not(.secret-more)"))).find(Boolean);
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

// Show/Hide, to check a typed or pasted key before saving: made here, as it needs JavaScript.
function addShowButtons() {
  for (const input of document.querySelectorAll(".secret-form input[name=secret]")) {
    input.form.querySelector(".secret-value-head:not(:has([data-show]))")?.insertAdjacentHTML("beforeend",
      `<button type="button" data-show aria-controls="${input.id}" aria-label="Show the value">Show</button>`);
  }
}
document.addEventListener("DOMContentLoaded", addShowButtons);
document.addEventListener("click", ({ target }) => {
  if (!target.matches("[data-show]")) return;
  const shown = target.textContent === "Show";
  document.getElementById(target.getAttribute("aria-controls")).type = shown ? "text" : "password";
  target.textContent = shown ? "Hide" : "Show";
  target.setAttribute("aria-label", `${target.textContent} the value`);
});

// The note's count: "12/200 characters" (maxlength stops it at the limit).
document.addEventListener("input", ({ target }) => {
  const count = target.name === "note" && target.form?.querySelector("[data-count]");
  if (count) count.textContent = `${target.value.length}/${target.maxLength} characters`;
});

// The one-line/multi-line switch changes the field's tag, which no morph keeps: carry its value.
let carried = null, refocus = null;
document.addEventListener("htmx:before:request", (event) => {
  const source = event.detail.ctx.sourceElement;
  const open = source.matches?.("a.secret-primary, a.secret-fallback") && source.closest("tbody").querySelector(".secret-editing [name=secret]");
  if (open) return event.preventDefault() ?? open.focus(); // an open editor is not opened twice
  if (source.matches?.("[data-lines]")) carried ??= { value: source.form.elements.secret.value };
  if (source.matches?.(TEST)) busy(source, true);
  clearResults();
});
document.addEventListener("htmx:finally:request", ({ detail: { ctx } }) => ctx.sourceElement.matches?.(TEST) && busy(ctx.sourceElement, false));

// A Test may take seconds: its button says so, and its row is busy, until the answer.
const TEST = "form[action$='/test']";
function busy(form, on) {
  Object.assign(form.querySelector("button"), { disabled: on, textContent: on ? "Testing…" : "Test" });
  form.closest("tbody").ariaBusy = on ? "true" : null;
}

// Focus a swap took away goes back: to Reveal after a re-mask, to the same list link after a swap.
document.addEventListener("htmx:before:swap", ({ detail: { ctx } }) => {
  const focused = document.activeElement;
  refocus = ctx.target?.contains?.(focused) && { target: ctx.target, href: focused.getAttribute("href"), name: !focused.closest("[data-remask]") && label(focused) };
});
document.addEventListener("htmx:after:swap", ({ detail: { ctx } }) => {
  addShowButtons();
  const body = ctx.target?.closest?.("tbody.secret");
  const editor = body?.isConnected && body.querySelector(".secret-editing"); // in view, Save included
  if (editor) (body.getBoundingClientRect().height <= innerHeight ? body : editor).scrollIntoView({ block: "nearest" });
  if (refocus && [null, document.body].includes(document.activeElement)) {
    const within = refocus.target.isConnected ? refocus.target : document.getElementById(refocus.target.id);
    const controls = [...(within?.querySelectorAll("a[href], button, input, textarea") || [])];
    (controls.find((c) => refocus.href && c.getAttribute("href") === refocus.href) || controls.find((c) => label(c) === refocus.name) || controls[0])?.focus();
  }
  const field = carried && editor?.querySelector("[name=secret]");
  // A password input drops line breaks: it only gets a value it keeps exactly.
  if (field && (field.matches("textarea") || !/[\r\n]/.test(carried.value))) field.value = carried.value;
  if (carried?.said) announce(carried.said);
  carried = refocus = null;
});

// A paste of several lines (a PEM key) into the password input, which drops them, switches first.
document.addEventListener("paste", (event) => {
  const input = event.target, text = event.clipboardData?.getData("text") || "";
  const switcher = input.matches("input[name=secret]") && input.form.querySelector("[data-lines]");
  if (!switcher || !/[\r\n]/.test(text.trim())) return; // one line, maybe with a newline at its end
  event.preventDefault();
  const value = input.value.slice(0, input.selectionStart) + text + input.value.slice(input.selectionEnd);
  carried = { value, said: "That paste has several lines: switched to a multi-line value." };
  switcher.click();
});

// First-contact clocks are written by the server in the policy's terms (working time,
// the reader's time zone: leadhandoff.durations); refresh the page's figures every
// minute where the page asks for it with data-refresh-every="60".
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    const el = document.querySelector("[data-refresh-every]");
    if (!el) return;
    const seconds = parseInt(el.dataset.refreshEvery, 10);
    if (seconds > 0) setTimeout(function () { window.location.reload(); }, seconds * 1000);
  });
})();

// Every error where the eye is (issue 15, point 5): when the server sends a form back
// with errors, list them in a summary at the top of the page (each a link to its
// field) and move the focus, and so the view, to the first one. Errors are found by
// their markup: Bootstrap's .is-invalid controls with their .invalid-feedback, an
// .alert-danger inside a form (a non-field error), or [data-field-error="<control id>"].
(function () {
  const CONTROLS = "input, select, textarea, button";

  function labelOf(control) {
    const label = control.id && document.querySelector('label[for="' + CSS.escape(control.id) + '"]');
    const text = label ? label.textContent : control.getAttribute("aria-label") || control.name || "";
    return text.replace(/\*\s*$/, "").replace(/\s+/g, " ").trim();
  }

  function feedbackOf(control) {
    // The messages after the control, up to the next control (forms without wrappers),
    // else the ones in its wrapper (crispy-forms' <div id="div_id_...">).
    const found = [];
    for (let el = control.nextElementSibling; el && !el.matches(CONTROLS + ", label"); el = el.nextElementSibling) {
      if (el.classList.contains("invalid-feedback")) found.push(el);
    }
    if (!found.length && control.parentElement) {
      found.push(...control.parentElement.querySelectorAll(".invalid-feedback"));
    }
    if (!found.length && control.closest("[id^='div_id_']")) {
      found.push(...control.closest("[id^='div_id_']").querySelectorAll(".invalid-feedback"));
    }
    return found;
  }

  function reveal(el) {
    for (let d = el.closest("details"); d; d = d.parentElement.closest("details")) d.open = true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    const main = document.querySelector("main");
    if (!main || main.querySelector("[data-error-summary-off]")) return;
    const items = [];
    main.querySelectorAll("form .alert-danger").forEach(function (alert) {
      if (!alert.closest("[data-error-summary-skip]")) items.push({ text: alert.textContent, target: alert });
    });
    main.querySelectorAll("form .is-invalid").forEach(function (control) {
      if (!control.matches(CONTROLS)) return;
      const feedback = feedbackOf(control);
      feedback.forEach(function (f, i) { if (!f.id) f.id = (control.id || control.name) + "-error-" + i; });
      if (feedback.length) control.setAttribute("aria-describedby", feedback.map(function (f) { return f.id; }).join(" "));
      control.setAttribute("aria-invalid", "true");
      const said = feedback.map(function (f) { return f.textContent.trim(); }).join(" ") || "This field has an error.";
      items.push({ text: labelOf(control) + ": " + said, target: control });
    });
    main.querySelectorAll("form [data-field-error]").forEach(function (message) {
      const control = document.getElementById(message.dataset.fieldError);
      if (control) {
        control.setAttribute("aria-invalid", "true");
        if (!message.id) message.id = control.id + "-error";
        control.setAttribute("aria-describedby", message.id);
      }
      items.push({ text: (control ? labelOf(control) + ": " : "") + message.textContent.trim(), target: control || message });
    });
    if (!items.length) return;
    if (items.every(function (item) { return !item.target.matches(CONTROLS) && !item.target.hasAttribute("data-field-error"); })
        && !main.querySelector("form [data-field-error]")) {
      // Only messages about the whole form, shown together already: focus the first, no copy of them.
      focusOn(items[0].target);
      return;
    }
    items.sort(function (a, b) {
      return a.target.compareDocumentPosition(b.target) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1;
    });

    const summary = document.createElement("div");
    summary.className = "alert alert-danger error-summary";
    summary.setAttribute("role", "alert");
    summary.dataset.testid = "error-summary";
    const title = document.createElement("h2");
    title.className = "h6";
    title.textContent = items.length === 1 ? "Not saved: one thing to fix" : "Not saved: " + items.length + " things to fix";
    const list = document.createElement("ul");
    list.className = "mb-0";
    items.forEach(function (item, i) {
      if (!item.target.id) item.target.id = "form-error-" + i;
      const li = document.createElement("li");
      const link = document.createElement("a");
      link.href = "#" + item.target.id;
      link.className = "alert-link";
      link.textContent = item.text.replace(/\s+/g, " ").trim();
      link.addEventListener("click", function (event) {
        event.preventDefault();
        focusOn(item.target);
      });
      li.appendChild(link);
      list.appendChild(li);
    });
    summary.append(title, list);
    main.prepend(summary);
    focusOn(items[0].target);
  });

  function focusOn(target) {
    reveal(target);
    if (!target.matches(CONTROLS) && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  }
})();

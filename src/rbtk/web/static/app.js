// rbtk settings pages: small enhancements; every page also works without this script.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";

  // Integration Key fields: checked by rbtk's own validation as the field is left.
  for (const input of document.querySelectorAll("input[data-validate-key]")) {
    const check = document.getElementById(input.id + "-check");
    let last = null;
    const validate = async () => {
      const value = input.value;
      if (value === last) return;
      last = value;
      if (value === "") {
        input.removeAttribute("aria-invalid");
        check.textContent = "";
        check.className = "check";
        return;
      }
      try {
        const response = await fetch(input.dataset.validateKey, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ integration_key: value }),
          credentials: "same-origin",
        });
        if (!response.ok) return; // the server checks the key again when the form is sent
        const answer = await response.json();
        if (input.value !== value) return;
        check.textContent = answer.message;
        check.className = answer.ok ? "check check-ok" : "check field-error";
        if (answer.ok) input.removeAttribute("aria-invalid");
        else input.setAttribute("aria-invalid", "true");
      } catch (error) {
        // Offline or signed out: the form is still checked when it is sent.
      }
    };
    input.addEventListener("change", validate);
    input.addEventListener("blur", validate);
    input.addEventListener("input", () => {
      // What was said about the previous value no longer applies.
      last = null;
      check.textContent = "";
      check.className = "check";
      input.removeAttribute("aria-invalid");
    });
  }

  // Forms that take a while (Send test event): say so, and do not send twice.
  for (const form of document.querySelectorAll("form[data-busy]")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector('button[type="submit"]');
      const status = form.querySelector("[data-busy-status]");
      if (status) status.textContent = form.dataset.busy;
      if (button) {
        setTimeout(() => {
          button.disabled = true;
        }, 0);
      }
    });
  }

  // On a phone, filters nobody set would fill the first screen: fold them under "Filters".
  if (window.matchMedia("(max-width: 40rem)").matches) {
    for (const details of document.querySelectorAll("details[data-fold-on-phone]")) {
      details.open = false;
    }
  }

  // After Send test event, bring its outcome into view and focus.
  const outcome = document.getElementById("test-outcome");
  if (outcome) outcome.focus();

  // The delivery log, incidents, events and storms refresh themselves while open (and
  // visible, and not paused): the log's rows come as a fragment, the others as the whole
  // page, of which the refreshed part is taken.
  const log = document.querySelector("[data-refresh]");
  if (log) {
    const seconds = Number(log.dataset.refresh) || 5;
    const toggle = document.querySelector("[data-refresh-toggle]");
    let on = true;
    if (toggle) {
      toggle.addEventListener("click", () => {
        on = !on;
        toggle.setAttribute("aria-pressed", String(on));
        toggle.textContent = `Auto-refresh every ${seconds} s: ${on ? "on" : "off"}`;
      });
    }
    // A log that silently stops refreshing would show a stale "all sent": say so instead.
    const warning = document.querySelector("[data-unreachable]");
    let lostAt = null;
    const reached = (ok, why) => {
      if (!warning) return;
      if (ok) {
        lostAt = null;
        warning.hidden = true;
        return;
      }
      lostAt = lostAt || new Date();
      const since = lostAt.toISOString().slice(11, 19);
      warning.textContent = `${why} since ${since} UTC: the rows below may be out of date. Trying again every ${seconds} s.`;
      warning.hidden = false;
    };
    const refresh = async () => {
      if (!on || document.hidden || log.contains(document.activeElement)) return;
      try {
        const response = await fetch(window.location.href, {
          headers: { "X-Refresh": "rows" },
          credentials: "same-origin",
          redirect: "manual",
        });
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          reached(false, "Your sign-in has ended (sign in again to see new deliveries)");
        } else if (!response.ok) {
          reached(false, `rbtk answered HTTP ${response.status}`);
        } else {
          const text = await response.text();
          if (response.headers.get("X-Rbtk-Fragment") === "1") {
            log.innerHTML = text;
          } else {
            const fresh = new DOMParser().parseFromString(text, "text/html").getElementById(log.id);
            if (fresh) log.innerHTML = fresh.innerHTML;
          }
          reached(true);
        }
      } catch (error) {
        reached(false, "Cannot reach rbtk");
      }
    };
    setInterval(refresh, seconds * 1000);
  }
})();

// Add a channel: show the Slack or the email field, whichever kind is chosen.
(function () {
  const form = document.querySelector("form[data-channel-form]");
  if (!form) return;
  const show = () => {
    const kind = form.querySelector('input[name="kind"]:checked')?.value || "slack";
    for (const field of form.querySelectorAll("[data-kind]")) {
      field.hidden = field.dataset.kind !== kind;
    }
  };
  for (const radio of form.querySelectorAll('input[name="kind"]')) {
    radio.addEventListener("change", show);
  }
  show();
})();

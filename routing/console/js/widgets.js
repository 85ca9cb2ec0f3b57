// Small pieces shared by the views: the decision badge, the confidence bar, the agency field.

import { el, uid } from "./dom.js";
import { percent, t } from "./i18n.js";

/** "Otomatis" (green) or "Perlu ditinjau" (amber). */
export function decisionBadge(decision) {
  const auto = decision === "auto";
  return el("span", { class: `badge ${auto ? "badge-auto" : "badge-review"}` }, t(auto ? "decision.auto" : "decision.review"));
}

/** The confidence as a bar and a number; the bar is decoration, the number is read out. */
export function confidenceBar(confidence, threshold) {
  const bar = el("span", { class: "bar", "aria-hidden": "true" }, el("span", { class: "bar-fill", style: { width: `${(confidence * 100).toFixed(1)}%` } }));
  if (threshold !== undefined) {
    bar.append(el("span", { class: "bar-threshold", style: { left: `${(threshold * 100).toFixed(1)}%` } }));
    bar.classList.toggle("bar-below", confidence < threshold);
  }
  return el("span", { class: "confidence" }, bar, el("span", { class: "confidence-value" }, percent(confidence, 1)));
}

/**
 * A searchable agency field (the page's shared <datalist id="agency-options">) with a save button.
 * A name the model does not know needs the "new agency" box ticked, so a typo is not stored as a
 * new agency. resolve(name) gives the known spelling or null; onSave({agency, newAgency});
 * `extra` (a button) goes next to the save button.
 */
export function agencyPicker({ resolve, onSave, label = t("picker.label"), extra = null }) {
  const input = el("input", { id: uid("agency"), type: "text", list: "agency-options", autocomplete: "off", spellcheck: "false", class: "input", placeholder: t("picker.placeholder") });
  const newBox = el("input", { id: uid("new-agency"), type: "checkbox" });
  const newRow = el("div", { class: "new-agency", hidden: true },
    el("label", { class: "check", for: newBox.id }, newBox, el("span", {}, t("picker.new"))),
  );
  const message = el("p", { class: "field-error", role: "alert" });
  const save = el("button", { type: "submit", class: "button" }, t("picker.save"));
  const form = el("form", { class: "picker", novalidate: true },
    el("label", { for: input.id, class: "label" }, label),
    el("div", { class: "picker-row" }, input, save, extra),
    newRow,
    message,
  );
  const update = () => {
    const name = input.value.trim();
    newRow.hidden = !name || resolve(name) !== null;
    message.textContent = "";
  };
  input.addEventListener("input", update);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    const known = resolve(name);
    if (!name) {
      message.textContent = t("picker.empty");
      input.focus();
      return;
    }
    if (known === null && !newBox.checked) {
      message.textContent = t("picker.unknown");
      newBox.focus();
      return;
    }
    save.disabled = true;
    try {
      await onSave({ agency: known ?? name, newAgency: known === null });
    } finally {
      save.disabled = false;
    }
  });
  return {
    element: form,
    input,
    focus: () => input.focus(),
  };
}

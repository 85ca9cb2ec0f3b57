// Disposisi: one complaint (and its location) → suggestions, the place it is about, the
// words behind them, similar past complaints, and the admin's decision (accept the top
// suggestion or record another agency, and correct the place).

import { api } from "../api.js";
import { el, replace, uid } from "../dom.js";
import { highlightSegments } from "../highlight.js";
import { errorText, percent, t } from "../i18n.js";
import { agencyPicker, confidenceBar, decisionBadge } from "../widgets.js";

const TOP_K_CHOICES = [1, 2, 3, 4, 5];

export function disposeView(ctx) {
  const state = {
    text: "",
    complaintId: "",
    location: "",
    topK: 3,
    busy: false,
    error: null,
    result: null, // the predict response
    textScored: "", // the text the result belongs to
    shown: 0, // the suggestion whose words are highlighted
    stored: null, // {agency, accepted, newAgency, feedbackId}
    storeError: null,
  };
  const root = el("section", { class: "view", id: "view-disposisi", "aria-labelledby": "title-disposisi" });
  // Kept across renders so screen readers announce what changes in them.
  const formError = el("div", { class: "alert alert-error", role: "alert" });
  const confirmation = el("div", { class: "confirmation", role: "status" });

  async function suggest() {
    const text = state.text;
    if (!text.trim()) {
      showError(t("dispose.emptyText"));
      root.querySelector("textarea").focus();
      return;
    }
    setBusy(true);
    showError(null);
    try {
      state.result = await api.predict(text, state.topK, state.complaintId.trim() || null, state.location.trim() || null);
    } catch (error) {
      showError(errorText(error));
      return;
    } finally {
      setBusy(false);
    }
    state.textScored = text;
    state.shown = 0;
    state.stored = null;
    state.storeError = null;
    render();
    root.querySelector("#result-title").focus();
  }

  function setBusy(busy) {
    state.busy = busy;
    const button = root.querySelector(".compose button[type=submit]");
    button.disabled = busy;
    button.textContent = t(busy ? "dispose.working" : "dispose.suggest");
  }

  function showError(message) {
    state.error = message;
    formError.textContent = message || "";
    formError.hidden = !message;
  }

  async function store({ agency, newAgency, note, jurisdiction }) {
    state.storeError = null;
    try {
      const out = await api.feedback({ predictionId: state.result.prediction_id, agency, newAgency, note, jurisdiction });
      state.stored = { agency, newAgency, accepted: out.accepted, feedbackId: out.feedback_id };
    } catch (error) {
      state.stored = null;
      state.storeError = errorText(error);
    }
    renderConfirmation();
  }

  function renderConfirmation() {
    confirmation.className = "confirmation";
    if (state.storeError) {
      confirmation.classList.add("confirmation-error");
      replace(confirmation, el("strong", {}, t("dispose.notStored")), " ", state.storeError);
      return;
    }
    if (!state.stored) {
      replace(confirmation);
      return;
    }
    const { agency, accepted, newAgency, feedbackId } = state.stored;
    confirmation.classList.add("confirmation-ok");
    replace(
      confirmation,
      el("strong", {}, t("dispose.stored")),
      " ",
      t("dispose.storedAgency"),
      " ",
      el("span", { class: "stored-agency" }, agency),
      newAgency ? ` (${t("dispose.newAgency")})` : "",
      ". ",
      t(accepted ? "dispose.storedAccepted" : "dispose.storedCorrected"),
      " ",
      el("span", { class: "muted" }, t("dispose.feedbackId", { id: feedbackId })),
    );
  }

  function composeForm() {
    const textId = uid("complaint");
    const idId = uid("complaint-id");
    const topId = uid("top-k");
    const textarea = el("textarea", { id: textId, class: "input", rows: 7, required: true, spellcheck: "false", placeholder: t("dispose.textPlaceholder"), "aria-describedby": `${textId}-hint` });
    textarea.value = state.text;
    textarea.addEventListener("input", () => (state.text = textarea.value));
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        suggest();
      }
    });
    const idInput = el("input", { id: idId, class: "input", type: "text", autocomplete: "off", value: state.complaintId });
    idInput.addEventListener("input", () => (state.complaintId = idInput.value));
    const locationId = uid("location");
    const locationInput = el("input", { id: locationId, class: "input", type: "text", autocomplete: "off", maxlength: 200, value: state.location, placeholder: t("dispose.locationPlaceholder") });
    locationInput.addEventListener("input", () => (state.location = locationInput.value));
    const topSelect = el("select", { id: topId, class: "input" }, TOP_K_CHOICES.map((k) => el("option", { value: k }, String(k))));
    topSelect.value = String(state.topK);
    topSelect.addEventListener("change", () => (state.topK = Number(topSelect.value)));
    const button = el("button", { type: "submit", class: "button button-primary", disabled: state.busy }, t(state.busy ? "dispose.working" : "dispose.suggest"));
    const form = el("form", { class: "card compose", novalidate: true },
      el("label", { for: textId, class: "label" }, t("dispose.text")),
      textarea,
      el("p", { class: "hint", id: `${textId}-hint` }, t("dispose.textHint")),
      el("div", { class: "form-row" },
        el("div", { class: "field field-grow" }, el("label", { for: idId, class: "label" }, t("dispose.complaintId")), idInput),
        el("div", { class: "field field-grow" }, el("label", { for: locationId, class: "label" }, t("dispose.location")), locationInput),
        el("div", { class: "field" }, el("label", { for: topId, class: "label" }, t("dispose.topK")), topSelect),
        el("div", { class: "field field-button" }, button),
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      suggest();
    });
    return form;
  }

  function suggestionCard(suggestion, index, threshold) {
    const shown = index === state.shown;
    const toggle = el("button", {
      type: "button",
      class: "link-button",
      "aria-pressed": shown ? "true" : "false",
      "aria-label": `${t("dispose.showWords")}: ${suggestion.agency}`,
    }, t("dispose.showWords"));
    toggle.addEventListener("click", () => {
      state.shown = index;
      render();
      root.querySelectorAll(".suggestion-card button[aria-pressed]")[index]?.focus();
    });
    return el("li", { class: shown ? "suggestion-card selected" : "suggestion-card" },
      el("div", { class: "suggestion-top" },
        el("span", { class: "rank", "aria-hidden": "true" }, String(index + 1)),
        el("h3", { class: "agency-name" }, el("span", { class: "visually-hidden" }, `${index + 1}. `), suggestion.agency),
      ),
      confidenceBar(suggestion.confidence, index === 0 ? threshold : undefined),
      suggestion.explanation.length
        ? el("div", { class: "words" },
          el("span", { class: "words-label" }, t("dispose.words")),
          el("ul", { class: "chips" }, suggestion.explanation.map((word) => el("li", { class: "chip" }, word))),
        )
        : el("p", { class: "hint" }, t("dispose.noWords")),
      toggle,
    );
  }

  function complaintPanel(result) {
    const suggestion = result.suggestions[state.shown] ?? result.suggestions[0];
    const words = suggestion ? suggestion.explanation : [];
    const text = el("div", { class: "complaint-text", tabindex: "0", role: "region", "aria-label": t("dispose.complaintText") },
      highlightSegments(state.textScored, words).map((segment) => (segment.mark ? el("mark", {}, segment.text) : segment.text)),
    );
    return el("div", { class: "complaint-panel" },
      el("h3", { class: "panel-title" }, t("dispose.complaintText")),
      suggestion ? el("p", { class: "hint" }, t("dispose.highlightFor"), " ", el("strong", {}, suggestion.agency)) : null,
      text,
    );
  }

  function similarPanel(similar) {
    if (!Array.isArray(similar) || similar.length === 0) return null;
    return el("section", { class: "similar", "aria-labelledby": "similar-title" },
      el("h3", { class: "panel-title", id: "similar-title" }, t("dispose.similar")),
      el("ul", { class: "similar-list" }, similar.map((item) => el("li", { class: "similar-item" },
        el("div", { class: "similar-head" },
          el("span", { class: "agency-tag" }, String(item.agency ?? "")),
          typeof item.similarity === "number" ? el("span", { class: "muted" }, t("dispose.similarity", { value: percent(item.similarity) })) : null,
          item.id !== undefined && item.id !== null ? el("span", { class: "muted mono" }, `#${item.id}`) : null,
        ),
        el("p", { class: "snippet" }, String(item.snippet ?? "")),
      ))),
    );
  }

  // The place the complaint is about, as the service found it (or that it found none).
  function jurisdictionLine(place) {
    if (!place) return el("p", { class: "jurisdiction muted" }, el("strong", {}, t("dispose.jurisdiction")), " ", t("dispose.noJurisdiction"));
    const where = place.code ? `${place.name} (${t(`level.${place.level}`)}, ${place.code})` : t("dispose.noCommonRegion");
    return el("p", { class: "jurisdiction" },
      el("strong", {}, t("dispose.jurisdiction")),
      " ",
      el("span", { class: "jurisdiction-name" }, where),
      " · ",
      el("span", { class: "muted" }, t(`dispose.source.${place.source}`, { evidence: place.evidence })),
      Array.isArray(place.candidates) && place.candidates.length
        ? el("span", { class: "muted" }, " · ", t("dispose.candidates", { codes: place.candidates.join(", ") }))
        : null,
    );
  }

  function decidePanel(result) {
    const top = result.suggestions[0];
    const noteId = uid("note");
    const note = el("input", { id: noteId, class: "input", type: "text", maxlength: 2000, autocomplete: "off" });
    const placeId = uid("jurisdiction");
    const place = el("input", { id: placeId, class: "input", type: "text", maxlength: 20, autocomplete: "off", inputmode: "numeric", placeholder: result.jurisdiction?.code || "32.73", "aria-describedby": `${placeId}-hint` });
    const decision = (agency, newAgency) => ({ agency, newAgency, note: note.value, jurisdiction: place.value.trim() || null });
    const accept = el("button", { type: "button", class: "button button-primary" }, t("dispose.accept"), top ? `: ${top.agency}` : "");
    accept.disabled = !top;
    accept.addEventListener("click", async () => {
      accept.disabled = true;
      await store(decision(top.agency, false));
      accept.disabled = false;
    });
    const picker = agencyPicker({
      resolve: ctx.resolveAgency,
      label: t("dispose.otherAgency"),
      onSave: ({ agency, newAgency }) => store(decision(agency, newAgency)),
    });
    return el("section", { class: "decide", "aria-labelledby": "decide-title" },
      el("h3", { class: "panel-title", id: "decide-title" }, t("dispose.decision")),
      el("div", { class: "decide-grid" },
        el("div", { class: "decide-accept" }, accept, el("p", { class: "hint" }, t("dispose.acceptHint"))),
        el("div", { class: "decide-other" }, picker.element),
      ),
      el("div", { class: "form-row" },
        el("div", { class: "field field-grow" }, el("label", { for: noteId, class: "label" }, t("dispose.note")), note),
        el("div", { class: "field" },
          el("label", { for: placeId, class: "label" }, t("dispose.correctJurisdiction")),
          place,
          el("p", { class: "hint", id: `${placeId}-hint` }, t("dispose.correctJurisdictionHint")),
        ),
      ),
      confirmation,
    );
  }

  // Why the complaint needs review, one line per reason; a code this console does not know
  // yet (the list is open) still shows, by its name.
  function reasonText(reason) {
    switch (reason.code) {
      case "low_confidence":
        return t("reason.low_confidence", { confidence: percent(reason.confidence, 1), threshold: percent(reason.threshold, 1) });
      case "ambiguous":
        return t("reason.ambiguous", { first: reason.agencies[0], second: reason.agencies[1] });
      case "out_of_scope":
        return t("reason.out_of_scope");
      case "few_shot":
        return t("reason.few_shot", { agency: reason.agency });
      case "no_jurisdiction":
        return t(reason.candidates?.length ? "reason.no_jurisdiction" : "reason.no_jurisdiction_none", { role: reason.role, candidates: (reason.candidates || []).join(", ") });
      case "location_conflict":
        return t("reason.location_conflict", { location: reason.location ?? "?", text: reason.text ?? "?" });
      default:
        return t("reason.other", { code: reason.code });
    }
  }

  function reasonList(reasons) {
    return el("div", { class: "reasons" },
      el("p", { class: "muted" }, t("dispose.reasons")),
      el("ul", { class: "reason-list" }, reasons.map((reason) => el("li", { "data-code": reason.code }, reasonText(reason)))),
    );
  }

  function resultCard(result) {
    const title = el("h2", { id: "result-title", tabindex: "-1" }, t("dispose.result"));
    return el("section", { class: "card result", "aria-labelledby": "result-title" },
      el("div", { class: "result-head" },
        title,
        decisionBadge(result.decision),
      ),
      result.decision === "auto"
        ? el("p", { class: "muted" }, t("dispose.autoExplain", { threshold: percent(result.threshold, 1) }))
        : reasonList(result.reasons || []),
      jurisdictionLine(result.jurisdiction),
      el("div", { class: "result-grid" },
        el("ol", { class: "suggestions", "aria-label": t("dispose.suggestions") }, result.suggestions.map((s, i) => suggestionCard(s, i, result.threshold))),
        complaintPanel(result),
      ),
      similarPanel(result.similar),
      decidePanel(result),
      el("p", { class: "meta" }, t("dispose.meta", { version: result.model_version, id: result.prediction_id })),
    );
  }

  function render() {
    showError(state.error);
    replace(root,
      el("header", { class: "view-head" },
        el("h1", { id: "title-disposisi" }, t("nav.dispose")),
        el("p", { class: "lead" }, t("dispose.lead")),
      ),
      composeForm(),
      formError,
      state.result ? resultCard(state.result) : null,
    );
    renderConfirmation();
  }

  return { element: root, render };
}

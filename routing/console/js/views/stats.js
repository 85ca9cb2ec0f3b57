// Statistik: how often admins accept the suggestions (GET /v1/stats), per agency, per model
// version and per decision, as charts and as the tables they are drawn from.

import { api } from "../api.js";
import { barChart } from "../chart.js";
import { el, replace, uid } from "../dom.js";
import { errorText, number, percent, t } from "../i18n.js";

const RATE_TICKS = [0, 0.25, 0.5, 0.75, 1];

function rate(group) {
  return group.acceptance_rate ?? null;
}

function groupTable({ caption, firstColumn, groups, label = (name) => name }) {
  const heads = [firstColumn, t("stats.predictions"), t("stats.decisions"), t("stats.accepted"), t("stats.rate")];
  return el("div", { class: "table-scroll" },
    el("table", { class: "table stats-table" },
      el("caption", { class: "visually-hidden" }, caption),
      el("thead", {}, el("tr", {}, heads.map((h, i) => el("th", { scope: "col", class: i ? "num" : "" }, h)))),
      el("tbody", {}, groups.map(([name, group]) => el("tr", {},
        el("th", { scope: "row" }, label(name)),
        el("td", { class: "num" }, number(group.predictions)),
        el("td", { class: "num" }, number(group.decisions)),
        el("td", { class: "num" }, number(group.accepted)),
        el("td", { class: "num" }, rate(group) === null ? "—" : percent(rate(group), 1)),
      ))),
    ),
  );
}

function tile(labelText, value, hint) {
  return el("div", { class: "tile" },
    el("span", { class: "tile-label" }, labelText),
    el("span", { class: "tile-value" }, value),
    hint ? el("span", { class: "tile-hint" }, hint) : null,
  );
}

export function statsView() {
  const state = { data: null, error: null, loading: false, since: "" };
  const root = el("section", { class: "view", id: "view-statistik", "aria-labelledby": "title-statistik" });

  async function load() {
    state.loading = true;
    state.error = null;
    // the toolbar is rebuilt below: give focus back to the control that had it
    const focused = document.activeElement?.closest(".stats-toolbar") ? document.activeElement.type : null;
    const button = root.querySelector(".stats-toolbar button");
    if (button) {
      button.disabled = true;
      button.textContent = t("stats.loading");
    }
    try {
      const since = state.since ? new Date(`${state.since}T00:00:00`).toISOString() : null;
      state.data = await api.stats(since);
    } catch (error) {
      state.error = errorText(error);
    } finally {
      state.loading = false;
    }
    render();
    if (focused) root.querySelector(`.stats-toolbar [type="${focused}"]`)?.focus();
  }

  function toolbar() {
    const sinceId = uid("since");
    const since = el("input", { id: sinceId, type: "date", class: "input", value: state.since });
    since.addEventListener("change", () => {
      state.since = since.value;
      load();
    });
    const refresh = el("button", { type: "button", class: "button", disabled: state.loading }, t(state.loading ? "stats.loading" : "stats.refresh"));
    refresh.addEventListener("click", load);
    return el("div", { class: "stats-toolbar" },
      el("div", { class: "field" }, el("label", { for: sinceId, class: "label" }, t("stats.since")), since),
      el("div", { class: "field field-button" }, refresh),
    );
  }

  // a code this console does not know yet shows as itself
  function reasonName(code) {
    const key = `reasonName.${code}`;
    const text = t(key);
    return text === key ? code : text;
  }

  function decisionName(name) {
    return t(name === "auto" ? "decision.auto" : "decision.review");
  }

  function content(data) {
    const agencies = Object.entries(data.by_agency).sort((a, b) => b[1].predictions - a[1].predictions || a[0].localeCompare(b[0]));
    const versions = Object.entries(data.by_model_version);
    const decisions = Object.entries(data.by_decision);
    const reasons = Object.entries(data.by_reason || {});
    if (data.predictions === 0) {
      return el("div", { class: "card empty" }, t("stats.none"));
    }
    const rateChart = (groups, labelText, name = (n) => n) => barChart({
      categories: groups.map(([n]) => name(n)),
      series: [{ name: t("stats.rate"), className: "series-rate", values: groups.map(([, g]) => rate(g)) }],
      max: 1,
      ticks: RATE_TICKS,
      format: (value) => percent(value),
      label: labelText,
    });
    const countMax = Math.max(1, ...decisions.map(([, g]) => g.predictions));
    const decisionChart = barChart({
      categories: decisions.map(([n]) => decisionName(n)),
      series: [
        { name: t("stats.predictions"), className: "series-predictions", values: decisions.map(([, g]) => g.predictions) },
        { name: t("stats.decisions"), className: "series-decisions", values: decisions.map(([, g]) => g.decisions) },
        { name: t("stats.accepted"), className: "series-accepted", values: decisions.map(([, g]) => g.accepted) },
      ],
      max: countMax,
      ticks: [0, countMax],
      format: (value) => number(value),
      label: t("stats.decisionChart"),
    });
    const legend = el("ul", { class: "legend", "aria-hidden": "true" },
      [["series-predictions", "stats.predictions"], ["series-decisions", "stats.decisions"], ["series-accepted", "stats.accepted"]]
        .map(([cls, key]) => el("li", {}, el("span", { class: `swatch ${cls}` }), t(key))));
    return [
      el("div", { class: "tiles" },
        tile(t("stats.predictions"), number(data.predictions)),
        tile(t("stats.decisions"), number(data.decisions), t("stats.ofPredictions", { share: percent(data.decisions / data.predictions) })),
        tile(t("stats.accepted"), number(data.accepted)),
        tile(t("stats.rate"), rate(data) === null ? "—" : percent(rate(data), 1)),
      ),
      el("section", { class: "card stats-card", "aria-labelledby": "chart-agency" },
        el("h2", { id: "chart-agency" }, t("stats.byAgency")),
        el("p", { class: "hint" }, t("stats.byAgencyHint")),
        el("div", { class: "stats-split" },
          rateChart(agencies, t("stats.byAgency")),
          groupTable({ caption: t("stats.byAgency"), firstColumn: t("stats.agency"), groups: agencies }),
        ),
      ),
      el("div", { class: "stats-grid" },
        el("section", { class: "card stats-card", "aria-labelledby": "chart-decision" },
          el("h2", { id: "chart-decision" }, t("stats.byDecision")),
          decisionChart,
          legend,
          groupTable({ caption: t("stats.byDecision"), firstColumn: t("stats.decision"), groups: decisions, label: decisionName }),
        ),
        reasons.length ? el("section", { class: "card stats-card", "aria-labelledby": "table-reason" },
          el("h2", { id: "table-reason" }, t("stats.byReason")),
          groupTable({ caption: t("stats.byReason"), firstColumn: t("stats.reason"), groups: reasons, label: reasonName }),
        ) : null,
        el("section", { class: "card stats-card", "aria-labelledby": "chart-version" },
          el("h2", { id: "chart-version" }, t("stats.byVersion")),
          rateChart(versions, t("stats.byVersion")),
          groupTable({ caption: t("stats.byVersion"), firstColumn: t("stats.version"), groups: versions, label: (name) => el("span", { class: "mono" }, name) }),
        ),
      ),
    ];
  }

  function render() {
    replace(root,
      el("header", { class: "view-head stats-head" },
        el("div", {},
          el("h1", { id: "title-statistik" }, t("nav.stats")),
          el("p", { class: "lead" }, t("stats.lead")),
        ),
        toolbar(),
      ),
      state.error ? el("div", { class: "alert alert-error", role: "alert" }, state.error) : null,
      state.data ? content(state.data) : null,
    );
  }

  return { element: root, render, load };
}

// A horizontal bar chart built from plain elements: one row per category, one bar per series.
// Labels wrap and stay crisp at any width. The chart is a picture of the table printed next
// to it, so assistive technology gets one summary label (role="img") and reads the table.

import { el } from "./dom.js";

/**
 * categories: [label]; series: [{name, className, values: [number|null]}];
 * max: the axis end (e.g. 1 for rates); format(value) → the text at a bar's end;
 * ticks: axis values to draw as grid lines; label: the accessible name of the picture.
 */
export function barChart({ categories, series, max, format, ticks = [], label }) {
  const share = (value) => (max > 0 ? Math.min(1, Math.max(0, value) / max) : 0);
  const grid = ticks.map((tick) => el("span", { class: "hchart-tick", style: { left: `${share(tick) * 100}%` } }));
  const rows = categories.map((category, c) => el("div", { class: "hchart-row" },
    el("span", { class: "hchart-label", title: category }, category),
    el("span", { class: "hchart-bars" },
      grid.map((tick) => tick.cloneNode()),
      series.map((serie) => {
        const value = serie.values[c];
        const missing = value === null || value === undefined;
        return el("span", { class: "hchart-line" },
          el("span", {
            class: `hchart-bar ${serie.className || ""}`,
            style: { width: missing ? "0" : `max(${share(value) * 100}%, ${value > 0 ? 3 : 0}px)` },
          }),
          el("span", { class: "hchart-value" }, missing ? "—" : format(value)),
        );
      }),
    ),
  ));
  const axis = ticks.length
    ? el("div", { class: "hchart-row hchart-axis" },
      el("span", { class: "hchart-label" }),
      el("span", { class: "hchart-bars" }, ticks.map((tick) => el("span", { class: "hchart-tick-label", style: { left: `${share(tick) * 100}%` } }, format(tick)))),
    )
    : null;
  return el("div", { class: "hchart", role: "img", "aria-label": label }, rows, axis);
}

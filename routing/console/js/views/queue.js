// Antrean: a file of incoming complaints → batch suggestions in chunks → a table the admin
// filters, accepts or corrects row by row, and exports as CSV with the final agencies.

import { api, ApiError } from "../api.js";
import { batchItem, chunk, textProblem } from "../batch.js";
import { readTable, toCSV } from "../csv.js";
import { el, replace, uid } from "../dom.js";
import { errorText, number, t } from "../i18n.js";
import { agencyPicker, confidenceBar, decisionBadge } from "../widgets.js";

const PAGE_SIZE = 100;
const TOP_K = 3;
const SNIPPET_CHARS = 120;
const TEXT_NAMES = ["text", "teks", "isi", "isi_laporan", "laporan", "pengaduan", "complaint", "uraian", "content"];
const ID_NAMES = ["id", "complaint_id", "tracking_id", "no", "nomor", "kode"];
const EXPORT_COLUMNS = ["prediction_id", "suggested_agency", "confidence", "decision", "final_agency", "final_status", "model_version"];

/** The column whose name says "text", else the one with the longest values. */
export function guessTextColumn(columns, rows) {
  const named = columns.find((c) => TEXT_NAMES.includes(c.trim().toLowerCase()));
  if (named) return named;
  const sample = rows.slice(0, 200);
  const length = (c) => sample.reduce((sum, row) => sum + (row[c] || "").length, 0);
  return columns.reduce((best, c) => (best === null || length(c) > length(best) ? c : best), null);
}

function guessIdColumn(columns, textColumn) {
  return columns.find((c) => c !== textColumn && ID_NAMES.includes(c.trim().toLowerCase())) ?? "";
}

/** What the export says about a row: its final agency and how it was decided. */
export function finalOf(item) {
  if (item.final) return { agency: item.final.agency, status: item.final.accepted ? "accepted" : "corrected" };
  if (item.status === "scored") {
    const auto = item.result.decision === "auto";
    return { agency: auto ? item.result.suggestions[0]?.agency ?? "" : "", status: auto ? "auto" : "pending" };
  }
  return { agency: "", status: item.status };
}

export function queueView(ctx) {
  const state = {
    fileName: "",
    columns: [],
    rows: [],
    textColumn: "",
    idColumn: "",
    items: [],
    running: false,
    done: 0,
    total: 0,
    filter: "all",
    page: 0,
    error: null,
    editing: null, // index of the row being corrected
  };
  const root = el("section", { class: "view", id: "view-antrean", "aria-labelledby": "title-antrean" });
  const announcer = el("div", { class: "confirmation", role: "status" });
  const loadError = el("div", { class: "alert alert-error", role: "alert" });

  const scored = () => state.items.filter((item) => item.status === "scored");
  const pending = () => state.items.filter((item) => item.status === "pending");

  async function loadFile(file) {
    state.error = null;
    try {
      const table = readTable(await file.text(), file.name);
      if (table.rows.length === 0 || table.columns.length === 0) throw new SyntaxError(t("queue.noRows"));
      state.fileName = file.name;
      state.columns = table.columns;
      state.rows = table.rows;
      state.textColumn = guessTextColumn(table.columns, table.rows);
      state.idColumn = guessIdColumn(table.columns, state.textColumn);
      state.items = [];
      state.done = 0;
      state.total = 0;
      state.page = 0;
      state.editing = null;
      replace(announcer);
    } catch (error) {
      state.columns = [];
      state.rows = [];
      state.items = [];
      state.error = t("queue.unreadable", { name: file.name, reason: error.message });
    }
    render();
  }

  function buildItems() {
    state.items = state.rows.map((record, index) => {
      const text = record[state.textColumn] ?? "";
      const problem = textProblem(text);
      return {
        index,
        record,
        text,
        complaintId: state.idColumn ? record[state.idColumn] ?? "" : "",
        status: problem ? "skipped" : "pending",
        problem,
        result: null,
        final: null,
      };
    });
  }

  async function score() {
    if (state.items.length === 0) buildItems();
    state.running = true;
    state.error = null;
    state.total = state.items.filter((i) => i.status !== "skipped").length;
    state.done = state.total - pending().length;
    render();
    const chunks = chunk(pending().map((item) => ({ item: batchItem(item.text, item.complaintId), row: item })));
    try {
      for (let entries of chunks) {
        while (entries.length) {
          let out;
          try {
            out = await api.predictBatch(entries.map((e) => e.item), TOP_K);
          } catch (error) {
            const refused = refusedRows(error, entries);
            if (refused.size === 0) throw error;
            for (const position of refused) {
              entries[position].row.status = "failed";
              entries[position].row.problem = "refused";
            }
            state.total -= refused.size;
            entries = entries.filter((_, position) => !refused.has(position));
            continue;
          }
          out.results.forEach((result, position) => {
            entries[position].row.status = "scored";
            entries[position].row.result = result;
          });
          state.done += entries.length;
          entries = [];
        }
        updateProgress();
        renderTable();
      }
    } catch (error) {
      state.error = errorText(error);
    } finally {
      state.running = false;
    }
    render();
  }

  /** Positions of a chunk's items that a 422 names (items[3].text → 3). */
  function refusedRows(error, entries) {
    const positions = new Set();
    if (!(error instanceof ApiError) || error.status !== 422) return positions;
    const locations = (error.errors || []).map((e) => e.loc).concat([error.detail]);
    for (const location of locations) {
      const match = /^items\[(\d+)\]/.exec(location || "");
      if (match && Number(match[1]) < entries.length) positions.add(Number(match[1]));
    }
    return positions;
  }

  async function decide(item, { agency, newAgency }) {
    try {
      const out = await api.feedback({ predictionId: item.result.prediction_id, agency, newAgency });
      item.final = { agency, accepted: out.accepted, newAgency };
      state.editing = null;
      replace(announcer, t("queue.storedRow", { row: item.index + 1, agency }));
      announcer.className = "confirmation confirmation-ok";
    } catch (error) {
      replace(announcer, t("queue.notStoredRow", { row: item.index + 1 }), " ", errorText(error));
      announcer.className = "confirmation confirmation-error";
      return;
    }
    renderTable();
    renderSummary();
    focusRow(item.index, ".row-edit");
  }

  function focusRow(index, selector) {
    root.querySelector(`tr[data-row="${index}"] ${selector}`)?.focus();
  }

  function exportCsv() {
    const ours = new Set(EXPORT_COLUMNS);
    const kept = state.columns.filter((c) => !ours.has(c));
    const rows = state.items.map((item) => {
      const top = item.result?.suggestions[0];
      const final = finalOf(item);
      return [
        ...kept.map((c) => item.record[c] ?? ""),
        item.result?.prediction_id ?? "",
        top?.agency ?? "",
        top ? top.confidence.toFixed(4) : "",
        item.result?.decision ?? "",
        final.agency,
        final.status,
        item.result?.model_version ?? "",
      ];
    });
    const blob = new Blob([toCSV([...kept, ...EXPORT_COLUMNS], rows)], { type: "text/csv;charset=utf-8" });
    const link = el("a", { href: URL.createObjectURL(blob), download: exportName(state.fileName), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  function exportName(fileName) {
    const base = fileName.replace(/\.[^.]+$/, "") || "antrean";
    return `${base}-disposisi.csv`;
  }

  function visibleItems() {
    if (state.filter === "review") return state.items.filter((i) => i.result?.decision === "review");
    if (state.filter === "undecided") return state.items.filter((i) => i.status === "scored" && !i.final && i.result.decision === "review");
    return state.items;
  }

  // --- rendering -------------------------------------------------------------------------

  function uploadCard() {
    const fileId = uid("queue-file");
    const input = el("input", { id: fileId, type: "file", class: "file-input", accept: ".csv,.jsonl,.ndjson,.json,.txt,text/csv,application/json", "aria-describedby": `${fileId}-hint`, disabled: state.running });
    input.addEventListener("change", () => input.files[0] && loadFile(input.files[0]));
    return el("section", { class: "card", "aria-labelledby": "upload-title" },
      el("h2", { id: "upload-title" }, t("queue.upload")),
      el("label", { for: fileId, class: "label" }, t("queue.file")),
      input,
      el("p", { class: "hint", id: `${fileId}-hint` }, t("queue.fileHint")),
      loadError,
      state.columns.length ? setupPanel() : null,
    );
  }

  function setupPanel() {
    const started = state.items.length > 0;
    const textId = uid("text-column");
    const idId = uid("id-column");
    const textSelect = el("select", { id: textId, class: "input", disabled: started }, state.columns.map((c) => el("option", { value: c }, c)));
    textSelect.value = state.textColumn;
    textSelect.addEventListener("change", () => (state.textColumn = textSelect.value));
    const idSelect = el("select", { id: idId, class: "input", disabled: started },
      el("option", { value: "" }, t("queue.noIdColumn")),
      state.columns.map((c) => el("option", { value: c }, c)));
    idSelect.value = state.idColumn;
    idSelect.addEventListener("change", () => (state.idColumn = idSelect.value));
    const left = pending().length;
    const canScore = !state.running && (!started || left > 0);
    const button = el("button", { type: "button", class: "button button-primary", disabled: !canScore },
      t(state.running ? "queue.scoring" : started && left ? "queue.resume" : "queue.score"));
    button.addEventListener("click", score);
    return el("div", { class: "setup" },
      el("p", { class: "file-summary" }, el("strong", {}, state.fileName), " · ", t("queue.fileRows", { rows: number(state.rows.length), columns: number(state.columns.length) })),
      el("div", { class: "form-row" },
        el("div", { class: "field field-grow" }, el("label", { for: textId, class: "label" }, t("queue.textColumn")), textSelect),
        el("div", { class: "field field-grow" }, el("label", { for: idId, class: "label" }, t("queue.idColumn")), idSelect),
        el("div", { class: "field field-button" }, button),
      ),
      progressBlock(),
    );
  }

  function progressBlock() {
    if (state.total === 0) return el("div", { class: "progress-block", hidden: true });
    const label = uid("progress");
    return el("div", { class: "progress-block" },
      el("label", { id: label, for: `${label}-bar`, class: "label" }, t("queue.progress", { done: number(state.done), total: number(state.total) })),
      el("progress", { id: `${label}-bar`, max: state.total, value: state.done }),
    );
  }

  function updateProgress() {
    const block = root.querySelector(".progress-block");
    if (block) block.replaceWith(progressBlock());
  }

  function summaryLine() {
    const items = state.items;
    const count = (predicate) => number(items.filter(predicate).length);
    return t("queue.summary", {
      total: number(items.length),
      review: count((i) => i.result?.decision === "review"),
      auto: count((i) => i.result?.decision === "auto"),
      decided: count((i) => i.final),
      skipped: count((i) => i.status === "skipped" || i.status === "failed"),
    });
  }

  function renderSummary() {
    const node = root.querySelector(".queue-summary");
    if (node) node.textContent = summaryLine();
  }

  function tableCard() {
    if (state.items.length === 0) return null;
    const filterId = uid("filter");
    const filter = el("select", { id: filterId, class: "input" },
      el("option", { value: "all" }, t("queue.filterAll")),
      el("option", { value: "review" }, t("queue.filterReview")),
      el("option", { value: "undecided" }, t("queue.filterUndecided")));
    filter.value = state.filter;
    filter.addEventListener("change", () => {
      state.filter = filter.value;
      state.page = 0;
      renderTable();
    });
    const exportButton = el("button", { type: "button", class: "button", disabled: state.running || scored().length === 0 }, t("queue.export"));
    exportButton.addEventListener("click", exportCsv);
    return el("section", { class: "card", "aria-labelledby": "table-title" },
      el("div", { class: "table-toolbar" },
        el("h2", { id: "table-title" }, t("queue.table")),
        el("div", { class: "toolbar-controls" },
          el("label", { for: filterId, class: "label-inline" }, t("queue.filter")),
          filter,
          exportButton,
        ),
      ),
      el("p", { class: "queue-summary muted" }, summaryLine()),
      announcer,
      el("div", { class: "table-holder" }),
    );
  }

  function rowCells(item) {
    const result = item.result;
    const top = result?.suggestions[0];
    const snippet = item.text.length > SNIPPET_CHARS ? `${item.text.slice(0, SNIPPET_CHARS)}…` : item.text;
    const cells = [
      el("td", { class: "num" }, String(item.index + 1)),
      el("td", { class: "mono" }, item.complaintId),
      el("td", { class: "text-cell" }, snippet),
    ];
    if (!result) {
      const reason = item.status === "pending" ? t("queue.waiting") : t(`queue.problem.${item.problem}`);
      cells.push(el("td", { colspan: 4, class: `muted status-${item.status}` }, reason));
      return cells;
    }
    const final = finalOf(item);
    cells.push(
      el("td", { class: "agency-cell" },
        el("span", { class: "suggested-agency" }, top?.agency ?? "—"),
        top ? confidenceBar(top.confidence, result.threshold) : null,
      ),
      el("td", {}, decisionBadge(result.decision)),
      el("td", { class: "final-cell" },
        final.agency ? el("span", { class: "final-agency" }, final.agency) : el("span", { class: "muted" }, "—"),
        el("span", { class: `status status-${final.status}` }, t(`queue.status.${final.status}`)),
      ),
      el("td", { class: "actions" }, actions(item)),
    );
    return cells;
  }

  /** The row under a row being corrected: the agency field, save and cancel. */
  function editorRow(item) {
    const row = item.index + 1;
    const cancel = el("button", { type: "button", class: "button button-quiet" }, t("queue.cancel"));
    cancel.addEventListener("click", () => {
      state.editing = null;
      renderTable();
      focusRow(item.index, ".row-edit");
    });
    const picker = agencyPicker({
      resolve: ctx.resolveAgency,
      label: t("queue.correctLabel", { row }),
      onSave: (choice) => decide(item, choice),
      extra: cancel,
    });
    const editor = el("div", { class: "row-editor" }, picker.element);
    editor.addEventListener("keydown", (event) => {
      if (event.key === "Escape") cancel.click();
    });
    queueMicrotask(picker.focus);
    return el("tr", { class: "editor-row", "data-editor": item.index }, el("td", { colspan: 7 }, editor));
  }

  function actions(item) {
    const top = item.result.suggestions[0];
    const row = item.index + 1;
    const accept = el("button", { type: "button", class: "button button-small row-accept", "aria-label": t("queue.acceptRow", { row, agency: top?.agency ?? "" }), disabled: !top },
      t("queue.accept"));
    accept.addEventListener("click", async () => {
      accept.disabled = true;
      await decide(item, { agency: top.agency, newAgency: false });
      accept.disabled = false;
    });
    const edit = el("button", { type: "button", class: "button button-small button-quiet row-edit", "aria-label": t("queue.correctRow", { row }) }, t("queue.correct"));
    edit.setAttribute("aria-expanded", String(state.editing === item.index));
    edit.addEventListener("click", () => {
      state.editing = state.editing === item.index ? null : item.index;
      renderTable();
    });
    return [accept, edit];
  }

  function renderTable() {
    const holder = root.querySelector(".table-holder");
    if (!holder) return;
    const visible = visibleItems();
    const pages = Math.max(1, Math.ceil(visible.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const slice = visible.slice(state.page * PAGE_SIZE, (state.page + 1) * PAGE_SIZE);
    const heads = ["#", t("queue.colId"), t("queue.colText"), t("queue.colSuggestion"), t("queue.colDecision"), t("queue.colFinal"), t("queue.colActions")];
    const table = el("table", { class: "table queue-table" },
      el("caption", { class: "visually-hidden" }, t("queue.caption", { shown: number(visible.length), total: number(state.items.length) })),
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, slice.map((item) => [
        el("tr", { "data-row": item.index, class: item.final ? "row-decided" : "" }, rowCells(item)),
        state.editing === item.index && item.result ? editorRow(item) : null,
      ])),
    );
    replace(holder,
      slice.length ? el("div", { class: "table-scroll" }, table) : el("p", { class: "empty" }, t("queue.nothing")),
      pages > 1 ? pager(pages) : null,
    );
    renderSummary();
  }

  function pager(pages) {
    const previous = el("button", { type: "button", class: "button button-small", disabled: state.page === 0 }, t("queue.previous"));
    const next = el("button", { type: "button", class: "button button-small", disabled: state.page >= pages - 1 }, t("queue.next"));
    previous.addEventListener("click", () => {
      state.page -= 1;
      renderTable();
    });
    next.addEventListener("click", () => {
      state.page += 1;
      renderTable();
    });
    return el("nav", { class: "pager", "aria-label": t("queue.pages") },
      previous, el("span", {}, t("queue.page", { page: state.page + 1, pages })), next);
  }

  function render() {
    loadError.textContent = state.error || "";
    loadError.hidden = !state.error;
    replace(root,
      el("header", { class: "view-head" },
        el("h1", { id: "title-antrean" }, t("nav.queue")),
        el("p", { class: "lead" }, t("queue.lead")),
      ),
      uploadCard(),
      tableCard(),
    );
    renderTable();
  }

  return { element: root, render };
}

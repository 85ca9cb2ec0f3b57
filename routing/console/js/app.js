// The console's entry point: the admin key, the language, and which view is shown.

import { api, onAuthFailure, session } from "./api.js";
import { el, replace, uid } from "./dom.js";
import { errorText, getLanguage, number, onLanguageChange, setLanguage, t, translatePage } from "./i18n.js";
import { disposeView } from "./views/dispose.js";
import { queueView } from "./views/queue.js";
import { statsView } from "./views/stats.js";

const TITLES = { disposisi: "nav.dispose", antrean: "nav.queue", statistik: "nav.stats" };

const known = new Map(); // lower-case name → the agency as the model spells it
const ctx = {
  resolveAgency: (name) => known.get(name.trim().toLocaleLowerCase()) ?? null,
};

const main = document.getElementById("main");
const banner = document.getElementById("banner");
const modelInfo = document.getElementById("model-info");
const views = { disposisi: disposeView(ctx), antrean: queueView(ctx), statistik: statsView(ctx) };
const login = { element: el("section", { class: "view login", id: "view-login", "aria-labelledby": "title-login" }), message: null };
let model = null;
// A service without keys (loopback only) answers without one: there is no key to ask for.
let openService = false;

function currentView() {
  const name = location.hash.slice(1);
  return name in views ? name : "disposisi";
}

function setBanner(message) {
  banner.textContent = message || "";
  banner.hidden = !message;
}

function show() {
  const loggedIn = openService || Boolean(session.key());
  document.body.classList.toggle("logged-out", !loggedIn);
  login.element.hidden = loggedIn;
  document.getElementById("logout").hidden = openService;
  const name = currentView();
  for (const [viewName, view] of Object.entries(views)) view.element.hidden = !loggedIn || viewName !== name;
  for (const link of document.querySelectorAll(".nav a")) {
    if (link.hash === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${t(loggedIn ? TITLES[name] : "login.title")} · ${t("app.title")}`;
  if (loggedIn && name === "statistik") views.statistik.load();
}

function renderModel() {
  modelInfo.textContent = model ? t("app.model", { version: model.model_version, agencies: number(known.size) }) : "";
}

async function loadModel() {
  try {
    const [agencies, summary] = await Promise.all([api.agencies(), api.model()]);
    known.clear();
    for (const { agency, agency_code: code } of agencies.agencies) {
      known.set(agency.toLocaleLowerCase(), agency);
      if (code) known.set(code.toLocaleLowerCase(), agency); // a code finds its agency too
    }
    replace(document.getElementById("agency-options"), agencies.agencies.map(({ agency }) => el("option", { value: agency })));
    model = summary;
    setBanner(null);
  } catch (error) {
    model = null;
    if (error.status !== 401) setBanner(t("app.modelFailed", { reason: errorText(error) }));
  }
  renderModel();
}

function renderLogin() {
  const keyId = uid("key");
  const adminId = uid("admin");
  const key = el("input", { id: keyId, type: "password", class: "input", required: true, autocomplete: "current-password", "aria-describedby": `${keyId}-hint` });
  const admin = el("input", { id: adminId, type: "text", class: "input", maxlength: 200, autocomplete: "username", "aria-describedby": `${adminId}-hint` });
  const submit = el("button", { type: "submit", class: "button button-primary" }, t("login.submit"));
  const message = el("div", { class: "alert alert-error", role: "alert", hidden: !login.message }, login.message || "");
  const form = el("form", { class: "card login-card", novalidate: true },
    el("h1", { id: "title-login" }, t("login.title")),
    el("p", { class: "lead" }, t("login.lead")),
    message,
    el("div", { class: "field" },
      el("label", { for: keyId, class: "label" }, t("login.key")),
      key,
      el("p", { class: "hint", id: `${keyId}-hint` }, t("login.keyHint")),
    ),
    el("div", { class: "field" },
      el("label", { for: adminId, class: "label" }, t("login.admin")),
      admin,
      el("p", { class: "hint", id: `${adminId}-hint` }, t("login.adminHint")),
    ),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = key.value.trim();
    if (!value) {
      login.message = t("login.empty");
      replace(message, login.message);
      message.hidden = false;
      key.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api.stats(new Date().toISOString(), value); // admin-only: proves the role
      session.save(value, admin.value.trim());
      login.message = null;
      renderLogin();
      show();
      loadModel();
      main.focus();
    } catch (error) {
      login.message = error.status === 403 ? t("login.notAdmin") : error.status === 401 ? t("login.unknownKey") : errorText(error);
      replace(message, login.message);
      message.hidden = false;
      submit.disabled = false;
      key.select();
      key.focus();
    }
  });
  replace(login.element, form);
}

function renderAll() {
  translatePage();
  renderLogin();
  for (const view of Object.values(views)) view.render();
  renderModel();
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === getLanguage()));
  }
  show();
}

onAuthFailure(() => {
  if (!session.key()) return; // a key being tried at the login form
  session.clear();
  login.message = t("login.expired");
  renderLogin();
  show();
  login.element.querySelector("input")?.focus();
});

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => setLanguage(button.dataset.lang));
}
document.getElementById("logout").addEventListener("click", () => {
  session.clear();
  login.message = null;
  renderLogin();
  show();
  login.element.querySelector("input")?.focus();
});
window.addEventListener("hashchange", () => {
  show();
  main.focus();
});
onLanguageChange(renderAll);

main.append(login.element, ...Object.values(views).map((view) => view.element));
/** Whether the service answers an admin request without a key (it runs without keys). */
async function serviceIsOpen() {
  try {
    await api.stats(new Date().toISOString(), null);
    return true;
  } catch {
    return false;
  }
}

renderAll();
if (session.key()) loadModel();
else if (await serviceIsOpen()) {
  openService = true;
  show();
  loadModel();
} else login.element.querySelector("input")?.focus();

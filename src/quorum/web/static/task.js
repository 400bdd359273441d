// Mounting a task section's tool, and the keyboard and submit plumbing every page shares.
import { isTyping } from "./tools/common.js";

export const csrfToken = () => document.querySelector('meta[name="csrf-token"]').content;

export function taskData(section) {
  return JSON.parse(section.querySelector(".task-data").textContent);
}

export async function mountTool(section, { answer, onChange } = {}) {
  const data = taskData(section);
  const module = await import(`/static/tools/${data.type}.js`);
  const tool = await module.mount(section.querySelector(".tool-root"), {
    params: data.params,
    answer: answer ?? data.answer,
    presentedOrder: data.presented_order,
    readOnly: section.dataset.mode === "view",
    onChange: onChange || (() => {}),
  });
  return { data, tool };
}

export function showErrors(section, messages) {
  const list = section.querySelector(".errors");
  if (!list) return;
  list.replaceChildren(...messages.map((m) => Object.assign(document.createElement("li"), { textContent: m })));
}

export function setStatus(section, text, kind = "") {
  const status = section.querySelector(".status");
  if (!status) return;
  status.textContent = text;
  status.dataset.kind = kind;
}

export async function postJSON(url, body) {
  // Resolves to {ok, status, body}; rejects only when the network fails.
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body ?? {}),
    credentials: "same-origin",
  });
  let parsed = null;
  try { parsed = await response.json(); } catch { parsed = null; }
  return { ok: response.ok, status: response.status, body: parsed };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function postWithRetry(url, body, onRetry) {
  // Network failures and server errors are retried with backoff (the answer stays saved on this
  // device meanwhile); a refusal (4xx) is returned to the caller at once.
  for (let attempt = 1; ; attempt += 1) {
    let result;
    try {
      result = await postJSON(url, body);
      if (result.status < 500) return { ...result, attempts: attempt };
    } catch {
      result = null;
    }
    const wait = Math.min(1000 * 2 ** (attempt - 1), 15000);
    onRetry(attempt, wait, result);
    await sleep(wait);
  }
}

export function bindKeys(section, { tool, submit, skip }) {
  // The page's one keydown listener: the tool's own keys first, then the common ones.
  const onKey = (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); submit?.(); return; }
    if (e.altKey && e.key.toLowerCase() === "s" && skip) { e.preventDefault(); skip(); return; }
    if (e.key === "Escape" && isTyping(e)) { e.target.blur(); return; }
    if (document.querySelector("dialog[open]")) return;
    if (tool.handleKey?.(e)) { e.preventDefault(); return; }
    if (e.key === "?" && !isTyping(e)) {
      const help = section.querySelector(".shortcuts");
      help.open = !help.open;
    }
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}

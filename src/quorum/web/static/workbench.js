// The worker's workbench: one task at a time, the next swapped in after each submit or skip.
// The answer in progress is kept in localStorage under the lease (assignment id), so a reload,
// a crash or a lost connection never loses work.
import { bindKeys, mountTool, postJSON, postWithRetry, setStatus, showErrors } from "./task.js";

const draftKey = (assignmentId) => `quorum:draft:${assignmentId}`;

function loadDraft(assignmentId) {
  try { return JSON.parse(localStorage.getItem(draftKey(assignmentId))); } catch { return null; }
}

function startCountdown(section) {
  const label = section.querySelector(".lease-countdown");
  if (!label) return () => {};
  const until = new Date(label.dataset.until).getTime();
  const tick = () => {
    const left = Math.max(0, Math.round((until - Date.now()) / 1000));
    label.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
    label.classList.toggle("low", left < 60);
    if (!left) label.textContent = "expired — submit soon; the task may go to someone else";
  };
  tick();
  const timer = setInterval(tick, 1000);
  return () => clearInterval(timer);
}

async function open(section) {
  const assignmentId = section.dataset.assignment;
  const draft = loadDraft(assignmentId);
  let tool;
  const save = () => localStorage.setItem(draftKey(assignmentId), JSON.stringify(tool.getAnswer()));
  const mounted = await mountTool(section, { answer: draft ?? undefined, onChange: () => save() });
  tool = mounted.tool;
  if (draft) setStatus(section, "Your unsent answer was restored.", "info");
  const stopCountdown = startCountdown(section);
  let busy = false;

  const close = () => { stopKeys(); stopCountdown(); tool.destroy(); };

  async function submit() {
    if (busy || document.getElementById("not-active")) return;
    const problems = tool.validate();
    showErrors(section, problems);
    if (problems.length) { setStatus(section, "Fix these first:", "error"); return; }
    busy = true;
    save();
    setStatus(section, "Submitting…");
    const result = await postWithRetry(`/work/assignments/${assignmentId}/submit`, { response: tool.getAnswer() },
      (attempt, wait) => setStatus(section, `Network problem: your answer is saved on this device; retrying in ${Math.round(wait / 1000)} s (attempt ${attempt + 1})…`, "error"));
    // After a lost reply the first try may have been stored: "already submitted" means it was.
    const alreadyStored = result.status === 409 && result.attempts > 1 && /already submitted/.test(result.body?.error || "");
    if (!result.ok && !alreadyStored) {
      busy = false;
      showErrors(section, [result.body?.error || `The server refused the answer (${result.status})`]);
      setStatus(section, "Not submitted:", "error");
      return;
    }
    localStorage.removeItem(draftKey(assignmentId));
    setStatus(section, result.attempts > 1 ? "Submitted after retrying ✓" : "Submitted ✓", "ok");
    close();
    await next(section);
  }

  async function skip() {
    if (busy) return;
    const dialog = document.getElementById("skip-dialog");
    const reason = dialog.querySelector("textarea");
    const broken = dialog.querySelector("input[name=broken]");
    reason.value = "";
    broken.checked = false;
    dialog.showModal();
    const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
    if (choice !== "skip" || !reason.value.trim()) return;
    busy = true;
    const result = await postJSON(`/work/assignments/${assignmentId}/skip`, { reason: reason.value.trim(), broken: broken.checked });
    if (!result.ok) { busy = false; showErrors(section, [result.body?.error || "Could not skip"]); return; }
    localStorage.removeItem(draftKey(assignmentId));
    close();
    await next(section);
  }

  section.querySelector(".submit-button")?.addEventListener("click", submit);
  section.querySelector(".skip-button")?.addEventListener("click", skip);
  const stopKeys = bindKeys(section, { tool, submit, skip });
  section.dataset.ready = "true";
}

async function next(section) {
  const result = await postJSON(`/work/projects/${section.dataset.project}/next`);
  const assignmentId = result.body?.assignment_id;
  if (!assignmentId) {
    section.remove();
    document.getElementById("done").hidden = false;
    history.replaceState(null, "", "/work");
    return;
  }
  const url = `/work/assignments/${assignmentId}`;
  const page = await fetch(url, { credentials: "same-origin" }).then((r) => r.text());
  const incoming = new DOMParser().parseFromString(page, "text/html").getElementById("task");
  section.replaceWith(incoming);
  history.pushState(null, "", url);
  window.scrollTo(0, 0);
  await open(incoming);
}

const section = document.getElementById("task");
if (section) open(section);
window.addEventListener("popstate", () => location.reload());

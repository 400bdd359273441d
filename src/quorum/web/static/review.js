// The review page: the submission in its task's tool; accept, save a fix, or reject with a reason.
import { bindKeys, mountTool, postJSON, setStatus, showErrors } from "./task.js";

const section = document.getElementById("task");
const actions = document.querySelector(".review-actions");

async function decide(body) {
  const result = await postJSON(`/review/${actions.dataset.review}/decision`, body);
  if (!result.ok) {
    showErrors(section, [result.body?.error || `Refused (${result.status})`]);
    return;
  }
  setStatus(section, `Review ${result.body.state} ✓`, "ok");
  location.assign("/review");
}

async function reject() {
  const dialog = document.getElementById("reject-dialog");
  const reason = dialog.querySelector("textarea");
  reason.value = "";
  dialog.showModal();
  const choice = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  if (choice === "reject" && reason.value.trim()) await decide({ action: "reject", reason: reason.value.trim() });
}

if (section) {
  const { tool } = await mountTool(section);
  const fix = () => {
    const problems = tool.validate();
    showErrors(section, problems);
    if (!problems.length) decide({ action: "fix", response: tool.getAnswer() });
  };
  section.querySelector(".submit-button").addEventListener("click", fix);
  actions.querySelector(".accept-button").addEventListener("click", () => decide({ action: "accept" }));
  actions.querySelector(".reject-button").addEventListener("click", reject);
  bindKeys(section, { tool, submit: fix });
  document.addEventListener("keydown", (e) => {
    if (!e.altKey || document.querySelector("dialog[open]")) return;
    if (e.key.toLowerCase() === "a") { e.preventDefault(); decide({ action: "accept" }); }
    if (e.key.toLowerCase() === "r") { e.preventDefault(); reject(); }
  });
  section.dataset.ready = "true";
}

// Comparison: answers are server-rendered (sanitized Markdown) in the order this worker sees them;
// the tool records the choice, the rating, the rationale and that presented order.
import { plainKey } from "./common.js";

export function mount(root, { params, answer, presentedOrder, readOnly = false, onChange = () => {} }) {
  const preferenceButtons = [...root.querySelectorAll(".preference .choice")];
  const ratingButtons = [...root.querySelectorAll(".rating .choice")];
  const rationale = root.querySelector(".rationale");
  const answers = [...root.querySelectorAll(".answer")];
  const order = presentedOrder || answers.map((a) => Number(a.dataset.index));
  let preferred = answer ? (answer.preferred ?? "tie") : undefined;
  let rating = answer?.rating;
  if (rationale && answer?.rationale) rationale.value = answer.rationale;

  function render() {
    for (const b of preferenceButtons) b.setAttribute("aria-pressed", String(b.dataset.preferred === String(preferred)));
    for (const b of ratingButtons) b.setAttribute("aria-pressed", String(Number(b.dataset.rating) === rating));
    for (const a of answers) a.classList.toggle("preferred", a.dataset.index === String(preferred));
  }
  function choose(value) { if (readOnly) return; preferred = value; render(); onChange(); }
  function rate(value) { if (readOnly) return; rating = value; render(); onChange(); }

  for (const b of preferenceButtons) { b.disabled = readOnly; b.addEventListener("click", () => choose(b.dataset.preferred === "tie" ? "tie" : Number(b.dataset.preferred))); }
  for (const b of ratingButtons) { b.disabled = readOnly; b.addEventListener("click", () => rate(Number(b.dataset.rating))); }
  if (rationale) { rationale.disabled = readOnly; rationale.addEventListener("input", onChange); }
  render();

  const scale = root.querySelector(".rating");
  return {
    getAnswer() {
      const result = { preferred: preferred === "tie" || preferred === undefined ? null : preferred, presented_order: order };
      if (ratingButtons.length && rating !== undefined) result.rating = rating;
      if (rationale && rationale.value.trim()) result.rationale = rationale.value;
      return result;
    },
    validate() {
      const problems = [];
      if (preferred === undefined) problems.push("Choose the better answer" + (params.allow_tie === false ? "" : " or a tie"));
      if (ratingButtons.length && rating === undefined) problems.push("Give a rating");
      if (params.rationale === "required" && !rationale.value.trim()) problems.push("Write a rationale");
      return problems;
    },
    handleKey(e) {
      if (!plainKey(e)) return false;
      if (/^[1-9]$/.test(e.key) && preferenceButtons[Number(e.key) - 1]?.dataset.preferred !== "tie") {
        const button = preferenceButtons[Number(e.key) - 1];
        if (!button) return false;
        choose(Number(button.dataset.preferred));
      } else if (e.key.toLowerCase() === "t" && preferenceButtons.some((b) => b.dataset.preferred === "tie")) choose("tie");
      else if ((e.key === "[" || e.key === "]") && scale) {
        const min = Number(scale.dataset.min), max = Number(scale.dataset.max);
        const start = rating ?? Math.round((min + max) / 2);
        rate(Math.min(max, Math.max(min, rating === undefined ? start : start + (e.key === "]" ? 1 : -1))));
      } else if (e.key.toLowerCase() === "r" && rationale) { e.preventDefault(); rationale.focus(); }
      else return false;
      return true;
    },
    destroy() {},
  };
}

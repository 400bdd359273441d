// Categorization: one numbered key per category across the questions; single or multiple choice.
import { plainKey } from "./common.js";

export function mount(root, { params, answer, readOnly = false, onChange = () => {} }) {
  const questions = [...root.querySelectorAll(".question")];
  const buttons = [...root.querySelectorAll(".choice")];
  const chosen = new Map(questions.map((q) => [q.dataset.question, new Set()]));
  const questionOf = (button) => button.closest(".question");

  function set(value) {
    if (!value) return;
    const raw = params.categories ? { category: value.category } : value.taxonomies || {};
    for (const [name, v] of Object.entries(raw)) if (chosen.has(name)) chosen.set(name, new Set(Array.isArray(v) ? v : [v]));
  }

  function render() {
    for (const button of buttons)
      button.setAttribute("aria-pressed", String(chosen.get(questionOf(button).dataset.question).has(button.dataset.value)));
  }

  function toggle(button) {
    if (readOnly) return;
    const question = questionOf(button);
    const values = chosen.get(question.dataset.question);
    const value = button.dataset.value;
    if (question.dataset.multiple === "true") values.has(value) ? values.delete(value) : values.add(value);
    else { values.clear(); values.add(value); }
    render();
    onChange();
  }

  for (const button of buttons) { button.addEventListener("click", () => toggle(button)); button.disabled = readOnly; }
  set(answer);
  render();

  return {
    getAnswer() {
      const values = Object.fromEntries(questions.map((q) => {
        const picked = [...chosen.get(q.dataset.question)];
        return [q.dataset.question, q.dataset.multiple === "true" ? picked : picked[0]];
      }));
      return params.categories ? { category: values.category } : { taxonomies: values };
    },
    validate() {
      return questions.filter((q) => !chosen.get(q.dataset.question).size)
        .map((q) => `Choose ${q.dataset.multiple === "true" ? "at least one" : "one"}: ${q.querySelector("legend").textContent}`);
    },
    handleKey(e) {
      if (!plainKey(e) || !/^[1-9]$/.test(e.key)) return false;
      const button = buttons[Number(e.key) - 1];
      if (button) toggle(button);
      return Boolean(button);
    },
    destroy() {},
  };
}

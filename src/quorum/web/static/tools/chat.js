// Chat: the worker writes both sides of a conversation, turns alternating from the user.
import { el } from "./common.js";

export function mount(root, { params, answer, readOnly = false, onChange = () => {} }) {
  const list = root.querySelector(".turns");
  const addButton = root.querySelector(".add-turn");
  const removeButton = root.querySelector(".remove-turn");
  const limit = params.max_characters_per_turn;
  const roleAt = (index) => (index % 2 === 0 ? "user" : "assistant");

  function turns() { return [...list.querySelectorAll("textarea")]; }

  function addTurn(content = "", focus = true) {
    const index = turns().length;
    if (params.max_turns && index >= params.max_turns) return;
    const role = roleAt(index);
    const item = el("li", { class: `turn ${role}` });
    const label = el("label", { class: "stack" });
    const head = el("span", { class: "turn-head" }, role === "user" ? "User" : "Assistant");
    const counter = el("span", { class: "count" });
    const text = el("textarea", { rows: "3", "data-role": role, placeholder: role === "user" ? "What the user says…" : "What the assistant answers…" });
    text.value = content;
    text.disabled = readOnly;
    const count = () => { counter.textContent = `${text.value.trim().length}${limit ? ` / ${limit}` : ""} characters`; counter.classList.toggle("bad", Boolean(limit) && text.value.trim().length > limit); };
    text.addEventListener("input", () => { count(); onChange(); });
    count();
    label.append(head, text, counter);
    item.append(label);
    list.append(item);
    updateButtons();
    if (focus) text.focus();
  }

  function removeTurn() {
    if (readOnly || !list.lastElementChild) return;
    list.lastElementChild.remove();
    updateButtons();
    onChange();
  }

  function updateButtons() {
    const count = turns().length;
    root.querySelector(".next-role").textContent = roleAt(count);
    addButton.disabled = readOnly || Boolean(params.max_turns && count >= params.max_turns);
    removeButton.disabled = readOnly || count === 0;
  }

  addButton.addEventListener("click", () => { addTurn(); onChange(); });
  removeButton.addEventListener("click", removeTurn);
  const initial = answer?.messages || [];
  if (initial.length) for (const m of initial) addTurn(m.content, false);
  else if (!readOnly) { addTurn("", false); addTurn("", false); }
  if (readOnly) { addButton.hidden = true; removeButton.hidden = true; }
  updateButtons();

  return {
    getAnswer() { return { messages: turns().map((t, i) => ({ role: roleAt(i), content: t.value })) }; },
    validate() {
      const all = turns();
      const problems = [];
      const min = params.min_turns ?? 2;
      if (all.length < min) problems.push(`Write at least ${min} turns (now ${all.length})`);
      all.forEach((t, i) => {
        const length = t.value.trim().length;
        if (!length) problems.push(`Turn ${i + 1} (${roleAt(i)}) is empty`);
        if (limit && length > limit) problems.push(`Turn ${i + 1} is longer than ${limit} characters`);
      });
      return problems;
    },
    handleKey(e) {
      if (readOnly || !e.altKey) return false;
      if (e.key === "Enter") { addTurn(); onChange(); return true; }
      if (e.key === "Backspace") { removeTurn(); return true; }
      return false;
    },
    destroy() {},
  };
}

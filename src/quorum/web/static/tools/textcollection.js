// Text collection: form fields with live character counts against their limits.
export function mount(root, { answer, readOnly = false, onChange = () => {} }) {
  const fields = [...root.querySelectorAll(".field")];

  function valueOf(field) {
    const type = field.dataset.type;
    if (type === "text") return field.querySelector("textarea").value;
    if (type === "number") { const v = field.querySelector("input").value; return v === "" ? undefined : Number(v); }
    if (type === "boolean") return field.querySelector("input").checked;
    const picked = [...field.querySelectorAll("input:checked")].map((i) => i.value);
    return Number(field.dataset.max) > 1 ? picked : picked[0];
  }

  function setValue(field, value) {
    if (value === undefined || value === null) return;
    const type = field.dataset.type;
    if (type === "text") field.querySelector("textarea").value = value;
    else if (type === "number") field.querySelector("input").value = value;
    else if (type === "boolean") field.querySelector("input").checked = Boolean(value);
    else for (const input of field.querySelectorAll("input")) input.checked = [].concat(value).includes(input.value);
  }

  function problem(field) {
    const value = valueOf(field);
    const title = field.querySelector(".field-title").textContent.replace(" *", "").trim();
    const empty = value === undefined || value === "" || (Array.isArray(value) && !value.length);
    if (empty) return field.dataset.required === "true" ? `${title}: required` : null;
    const min = field.dataset.min === "" ? null : Number(field.dataset.min);
    const max = field.dataset.max === "" ? null : Number(field.dataset.max);
    if (field.dataset.type === "text") {
      const length = value.trim().length;
      if (min !== null && length < min) return `${title}: at least ${min} characters (now ${length})`;
      if (max !== null && length > max) return `${title}: at most ${max} characters (now ${length})`;
    } else if (field.dataset.type === "number") {
      if (Number.isNaN(value)) return `${title}: must be a number`;
      if (min !== null && value < min) return `${title}: at least ${min}`;
      if (max !== null && value > max) return `${title}: at most ${max}`;
    } else if (field.dataset.type === "category") {
      const count = [].concat(value).length;
      if (count < min || count > max) return `${title}: choose ${min}–${max}`;
    }
    return null;
  }

  function updateCount(field) {
    if (field.dataset.type !== "text") return;
    const length = valueOf(field).trim().length;
    const counter = field.querySelector(".count");
    counter.querySelector(".chars").textContent = String(length);
    const min = Number(field.dataset.min || 0), max = field.dataset.max === "" ? Infinity : Number(field.dataset.max);
    counter.classList.toggle("bad", length > max || (length > 0 && length < min));
    counter.classList.toggle("good", length >= min && length <= max && length > 0);
  }

  for (const field of fields) {
    setValue(field, answer?.annotations?.[field.dataset.field]);
    updateCount(field);
    for (const input of field.querySelectorAll("input, textarea")) {
      input.disabled = readOnly;
      input.addEventListener("input", () => { updateCount(field); onChange(); });
    }
  }

  return {
    getAnswer() {
      const annotations = {};
      for (const field of fields) {
        const value = valueOf(field);
        const empty = value === undefined || value === "" || (Array.isArray(value) && !value.length);
        if (!empty) annotations[field.dataset.field] = value;
      }
      return { annotations };
    },
    validate() { return fields.map(problem).filter(Boolean); },
    handleKey(e) {
      if (!e.altKey || !/^[1-9]$/.test(e.key)) return false;
      const field = fields[Number(e.key) - 1];
      field?.querySelector("textarea, input")?.focus();
      return Boolean(field);
    },
    destroy() {},
  };
}

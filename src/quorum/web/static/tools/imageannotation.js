// The image annotation tool: boxes, polygons and points over an image in an SVG whose viewBox
// is the image's pixel space, so every coordinate the tool stores is an image pixel.
import { el, svgEl, labelColor, isTyping } from "./common.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const CLOSE_DISTANCE_PX = 10; // screen pixels: a click this near the first vertex closes a polygon
const MIN_BOX_PX = 2;

function flattenLabels(spec) {
  // A choice, or its subchoices when it has some, as in the task type's `labels()`.
  const labels = [];
  for (const item of spec?.objects_to_annotate || []) {
    if (typeof item === "string") labels.push({ value: item, display: item });
    else if (item.subchoices?.length)
      for (const sub of item.subchoices)
        labels.push(typeof sub === "string"
          ? { value: sub, display: `${item.display || item.choice}: ${sub}` }
          : { value: sub.choice, display: sub.display || sub.choice });
    else labels.push({ value: item.choice, display: item.display || item.choice });
  }
  return labels;
}

function safeImageUrl(url) {
  return /^(https?:\/\/|\/)/i.test(url || "") ? url : "";
}

function loadImageSize(url) {
  return new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve({ width: img.naturalWidth || 640, height: img.naturalHeight || 480 });
    img.onerror = () => resolve({ width: 640, height: 480 });
    img.src = url;
  });
}

const round = (v) => Math.round(v * 100) / 100;
let counter = 0;
const newUuid = () =>
  (crypto.randomUUID ? crypto.randomUUID() : `s${Date.now().toString(36)}${(counter++).toString(36)}`);

export async function mount(root, { params, answer, readOnly = false, onChange = () => {} }) {
  const geometries = params.geometries || {};
  const attributeSpecs = params.annotation_attributes || {};
  const labelsByKind = {};
  for (const kind of ["box", "polygon", "point", "line"]) if (geometries[kind]) labelsByKind[kind] = flattenLabels(geometries[kind]);
  const url = safeImageUrl(params.attachment);
  const size = params.image_width && params.image_height
    ? { width: params.image_width, height: params.image_height }
    : await loadImageSize(url);
  const W = size.width, H = size.height;

  const stage = root.querySelector(".ia-stage");
  const labelsBar = root.querySelector(".ia-labels");
  const shapeList = root.querySelector(".ia-shapes");
  const attributesPanel = root.querySelector(".ia-attributes");
  const modeButtons = [...root.querySelectorAll(".ia-modes [data-mode]")];

  const svg = svgEl("svg", { class: "ia-svg", preserveAspectRatio: "xMidYMid meet" });
  const image = svgEl("image", { x: 0, y: 0, width: W, height: H, preserveAspectRatio: "none" });
  if (url) image.setAttribute("href", url);
  const shapesLayer = svgEl("g", { class: "shapes" });
  const draftLayer = svgEl("g", { class: "draft" });
  const handlesLayer = svgEl("g", { class: "handles" });
  svg.append(image, shapesLayer, draftLayer, handlesLayer);
  stage.replaceChildren(svg);

  let shapes = (answer?.annotations || []).map((s) => structuredClone(s));
  let selected = null;
  let mode = readOnly ? "select" : (geometries.box ? "box" : geometries.polygon ? "polygon" : "point");
  const currentLabel = {};
  for (const [kind, labels] of Object.entries(labelsByKind)) currentLabel[kind] = labels[0]?.value;
  let view = { x: 0, y: 0, w: W, h: H };
  let undoStack = [], redoStack = [];
  let drag = null; // {kind: "pan"|"box"|"move"|"resize", ...}
  let polygonDraft = null; // [{x, y}, ...] while a polygon is being drawn
  let pointer = null;
  let spaceHeld = false;

  const snapshot = () => JSON.stringify(shapes);
  const checkpoint = () => { undoStack.push(snapshot()); redoStack = []; };
  const changed = () => { render(); onChange(); };
  const find = (uuid) => shapes.find((s) => s.uuid === uuid);
  const unitsPerPixel = () => view.w / (svg.clientWidth || W);

  function toImage(event) {
    const point = svg.createSVGPoint();
    point.x = event.clientX; point.y = event.clientY;
    return point.matrixTransform(svg.getScreenCTM().inverse());
  }
  const clampX = (x) => Math.min(Math.max(x, 0), W);
  const clampY = (y) => Math.min(Math.max(y, 0), H);

  function setView(next) {
    view = next;
    svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    render();
  }
  function zoom(factor, center = { x: view.x + view.w / 2, y: view.y + view.h / 2 }) {
    const w = Math.min(Math.max(view.w / factor, W / 40), W * 4);
    const h = w * (view.h / view.w);
    const k = w / view.w;
    setView({ x: center.x - (center.x - view.x) * k, y: center.y - (center.y - view.y) * k, w, h });
  }

  function setMode(next) {
    if (readOnly || !labelsByKind[next] && next !== "select") return;
    mode = next;
    polygonDraft = null;
    for (const b of modeButtons) b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
    stage.dataset.mode = mode;
    render();
  }

  function activeKind() {
    if (mode !== "select") return mode;
    return selected ? find(selected)?.type : Object.keys(labelsByKind)[0];
  }

  function pickLabel(index) {
    const kind = activeKind();
    const label = labelsByKind[kind]?.[index];
    if (!label) return;
    currentLabel[kind] = label.value;
    const shape = selected && find(selected);
    if (shape && shape.type === kind && shape.label !== label.value && !readOnly) {
      checkpoint(); shape.label = label.value; changed();
    } else render();
  }

  function addShape(shape) {
    checkpoint();
    shapes.push({ uuid: newUuid(), attributes: {}, ...shape });
    selected = shapes.at(-1).uuid;
    changed();
  }

  function deleteSelected() {
    if (!selected || readOnly) return;
    checkpoint();
    shapes = shapes.filter((s) => s.uuid !== selected);
    selected = null;
    changed();
  }

  function restore(from, to) {
    if (!from.length) return;
    to.push(snapshot());
    shapes = JSON.parse(from.pop());
    if (selected && !find(selected)) selected = null;
    changed();
  }

  function closePolygon() {
    if (!polygonDraft || polygonDraft.length < 3) return;
    const vertices = polygonDraft.map((v) => ({ x: round(v.x), y: round(v.y) }));
    polygonDraft = null;
    addShape({ type: "polygon", label: currentLabel.polygon, vertices });
  }

  function translate(shape, dx, dy) {
    // Moves stay inside the image: the shift is limited by the shape's own extent.
    const [minX, minY, maxX, maxY] = bounds(shape);
    dx = Math.min(Math.max(dx, -minX), W - maxX);
    dy = Math.min(Math.max(dy, -minY), H - maxY);
    if (shape.type === "box") { shape.left = round(shape.left + dx); shape.top = round(shape.top + dy); }
    else if (shape.type === "point") { shape.x = round(shape.x + dx); shape.y = round(shape.y + dy); }
    else shape.vertices = shape.vertices.map((v) => ({ x: round(v.x + dx), y: round(v.y + dy) }));
  }

  function bounds(shape) {
    if (shape.type === "box") return [shape.left, shape.top, shape.left + shape.width, shape.top + shape.height];
    if (shape.type === "point") return [shape.x, shape.y, shape.x, shape.y];
    const xs = shape.vertices.map((v) => v.x), ys = shape.vertices.map((v) => v.y);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  // Pointer handling

  svg.addEventListener("contextmenu", (e) => e.preventDefault());
  svg.addEventListener("wheel", (e) => { e.preventDefault(); zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, toImage(e)); }, { passive: false });

  svg.addEventListener("pointerdown", (e) => {
    stage.focus({ preventScroll: true });
    const p = toImage(e);
    if (e.button === 2 || e.button === 1 || spaceHeld) {
      drag = { kind: "pan", startX: e.clientX, startY: e.clientY, view: { ...view } };
    } else if (e.button !== 0) {
      return;
    } else if (mode === "select" || readOnly) {
      const handle = e.target.dataset?.handle;
      const uuid = e.target.closest?.("[data-uuid]")?.dataset.uuid;
      if (handle && !readOnly) {
        // The corner opposite the handle stays put; the box spans from it to the pointer.
        const [x1, y1, x2, y2] = bounds(find(selected));
        const anchor = { x: handle.includes("w") ? x2 : x1, y: handle.includes("n") ? y2 : y1 };
        drag = { kind: "resize", anchor, uuid: selected, before: snapshot() };
      } else if (uuid) {
        selected = uuid;
        drag = readOnly ? null : { kind: "move", uuid, last: p, before: snapshot() };
        render();
      } else {
        selected = null;
        drag = { kind: "pan", startX: e.clientX, startY: e.clientY, view: { ...view } };
        render();
      }
    } else if (mode === "box") {
      const start = { x: clampX(p.x), y: clampY(p.y) };
      drag = { kind: "box", start, end: start };
    } else if (mode === "point") {
      addShape({ type: "point", label: currentLabel.point, x: round(clampX(p.x)), y: round(clampY(p.y)) });
    } else if (mode === "polygon") {
      const vertex = { x: clampX(p.x), y: clampY(p.y) };
      if (polygonDraft?.length >= 3) {
        const first = polygonDraft[0];
        if (Math.hypot(first.x - vertex.x, first.y - vertex.y) <= CLOSE_DISTANCE_PX * unitsPerPixel()) {
          closePolygon();
          return;
        }
      }
      polygonDraft = [...(polygonDraft || []), vertex];
      render();
    }
    if (drag) svg.setPointerCapture(e.pointerId);
  });

  svg.addEventListener("pointermove", (e) => {
    const p = toImage(e);
    pointer = p;
    if (!drag) { if (polygonDraft) renderDraft(); return; }
    if (drag.kind === "pan") {
      const k = unitsPerPixel();
      setView({ ...drag.view, x: drag.view.x - (e.clientX - drag.startX) * k, y: drag.view.y - (e.clientY - drag.startY) * k });
    } else if (drag.kind === "box") {
      drag.end = { x: clampX(p.x), y: clampY(p.y) };
      renderDraft();
    } else if (drag.kind === "move") {
      const shape = find(drag.uuid);
      translate(shape, p.x - drag.last.x, p.y - drag.last.y);
      drag.last = p;
      drag.moved = true;
      render();
    } else if (drag.kind === "resize") {
      const shape = find(drag.uuid);
      const x = clampX(p.x), y = clampY(p.y), { anchor } = drag;
      Object.assign(shape, {
        left: round(Math.min(anchor.x, x)), top: round(Math.min(anchor.y, y)),
        width: round(Math.max(Math.abs(x - anchor.x), 1)), height: round(Math.max(Math.abs(y - anchor.y), 1)),
      });
      drag.moved = true;
      render();
    }
  });

  svg.addEventListener("pointerup", () => {
    if (!drag) return;
    const finished = drag;
    drag = null;
    if (finished.kind === "box") {
      const { start, end } = finished;
      const width = Math.abs(end.x - start.x), height = Math.abs(end.y - start.y);
      draftLayer.replaceChildren();
      if (width >= MIN_BOX_PX && height >= MIN_BOX_PX)
        addShape({
          type: "box", label: currentLabel.box,
          left: round(Math.min(start.x, end.x)), top: round(Math.min(start.y, end.y)),
          width: round(width), height: round(height),
        });
    } else if ((finished.kind === "move" || finished.kind === "resize") && finished.moved) {
      undoStack.push(finished.before);
      redoStack = [];
      changed();
    }
  });

  // Drawing

  function renderDraft() {
    draftLayer.replaceChildren();
    if (drag?.kind === "box") {
      const { start, end } = drag;
      draftLayer.append(svgEl("rect", {
        x: Math.min(start.x, end.x), y: Math.min(start.y, end.y),
        width: Math.abs(end.x - start.x), height: Math.abs(end.y - start.y),
        stroke: labelColor(currentLabel.box), class: "draft-shape",
      }));
    }
    if (polygonDraft) {
      const points = [...polygonDraft, ...(pointer ? [pointer] : [])].map((v) => `${v.x},${v.y}`).join(" ");
      draftLayer.append(svgEl("polyline", { points, stroke: labelColor(currentLabel.polygon), class: "draft-shape" }));
      const r = 4 * unitsPerPixel();
      polygonDraft.forEach((v, i) => draftLayer.append(svgEl("circle", { cx: v.x, cy: v.y, r: i === 0 ? r * 1.6 : r, class: "vertex" })));
    }
  }

  function shapeElement(shape, index) {
    const color = labelColor(shape.label);
    const common = { "data-uuid": shape.uuid, stroke: color, class: `shape${shape.uuid === selected ? " selected" : ""}` };
    let node;
    if (shape.type === "box") node = svgEl("rect", { ...common, x: shape.left, y: shape.top, width: shape.width, height: shape.height, fill: color });
    else if (shape.type === "polygon") node = svgEl("polygon", { ...common, fill: color, points: shape.vertices.map((v) => `${v.x},${v.y}`).join(" ") });
    else if (shape.type === "line") node = svgEl("polyline", { ...common, fill: "none", points: shape.vertices.map((v) => `${v.x},${v.y}`).join(" ") });
    else node = svgEl("circle", { ...common, cx: shape.x, cy: shape.y, r: 5 * unitsPerPixel(), fill: color });
    const title = document.createElementNS(SVG_NS, "title");
    title.textContent = `${index + 1}. ${shape.label}`;
    node.append(title);
    return node;
  }

  function render() {
    const k = unitsPerPixel();
    shapesLayer.replaceChildren(...shapes.map(shapeElement));
    for (const [index, shape] of shapes.entries()) {
      const [x, y] = bounds(shape);
      const tag = svgEl("text", { x, y: y - 4 * k, class: "shape-tag", "font-size": 13 * k });
      tag.textContent = `${index + 1} ${shape.label}`;
      shapesLayer.append(tag);
    }
    handlesLayer.replaceChildren();
    const shape = selected && find(selected);
    if (shape?.type === "box" && !readOnly) {
      const s = 8 * k;
      for (const [name, x, y] of [["nw", shape.left, shape.top], ["ne", shape.left + shape.width, shape.top],
        ["sw", shape.left, shape.top + shape.height], ["se", shape.left + shape.width, shape.top + shape.height]])
        handlesLayer.append(svgEl("rect", { x: x - s / 2, y: y - s / 2, width: s, height: s, class: `handle ${name}`, "data-handle": name }));
    }
    renderDraft();
    renderLabels();
    renderList();
    renderAttributes();
  }

  function renderLabels() {
    const kind = activeKind();
    const labels = labelsByKind[kind] || [];
    const shape = selected && find(selected);
    const active = shape && mode === "select" ? shape.label : currentLabel[kind];
    labelsBar.replaceChildren(...labels.map((label, i) => {
      const button = el("button", { type: "button", class: "label-choice", "aria-pressed": String(label.value === active), "data-label": label.value });
      button.append(el("kbd", {}, i < 9 ? String(i + 1) : ""), ` ${label.display}`);
      button.style.borderColor = labelColor(label.value);
      button.addEventListener("click", () => pickLabel(i));
      return button;
    }));
  }

  function renderList() {
    const problems = new Map(problemsByShape());
    shapeList.replaceChildren(...shapes.map((shape, i) => {
      const item = el("li", { class: `${shape.uuid === selected ? "selected" : ""}${problems.has(shape.uuid) ? " invalid" : ""}`, "data-uuid": shape.uuid });
      const swatch = el("span", { class: "swatch" });
      swatch.style.background = labelColor(shape.label);
      const name = el("button", { type: "button", class: "link" }, `${i + 1}. ${shape.type} · ${shape.label}`);
      name.addEventListener("click", () => { selected = shape.uuid; if (!readOnly) setMode("select"); render(); });
      item.append(swatch, name);
      if (!readOnly) {
        const remove = el("button", { type: "button", class: "link danger", title: "Delete" }, "✕");
        remove.addEventListener("click", () => { selected = shape.uuid; deleteSelected(); });
        item.append(remove);
      }
      if (problems.has(shape.uuid)) item.append(el("div", { class: "problem" }, problems.get(shape.uuid)));
      return item;
    }));
  }

  function renderAttributes() {
    attributesPanel.replaceChildren();
    const shape = selected && find(selected);
    const names = Object.keys(attributeSpecs);
    if (!shape || !names.length) return;
    attributesPanel.append(el("h3", {}, "Attributes"));
    for (const name of names) {
      const spec = attributeSpecs[name];
      const value = shape.attributes?.[name];
      const label = el("label", { class: "stack" }, `${name}${spec.required !== false ? " *" : ""}`);
      if (spec.description) label.append(el("span", { class: "muted" }, spec.description));
      let input;
      if (spec.type === "number") {
        input = el("input", { type: "number", step: "any", value: value ?? "" });
        if (spec.min != null) input.min = spec.min;
        if (spec.max != null) input.max = spec.max;
      } else if (spec.type === "text") {
        input = el("input", { type: "text", value: value ?? "" });
      } else {
        input = el("select", spec.allow_multiple ? { multiple: "" } : {});
        if (!spec.allow_multiple) input.append(el("option", { value: "" }, "—"));
        for (const choice of spec.choices || []) {
          const option = el("option", { value: choice }, choice);
          option.selected = Array.isArray(value) ? value.includes(choice) : value === choice;
          input.append(option);
        }
      }
      input.dataset.attribute = name;
      input.disabled = readOnly;
      input.addEventListener("change", () => {
        checkpoint();
        let next;
        if (spec.type === "number") next = input.value === "" ? undefined : Number(input.value);
        else if (spec.type === "category" && spec.allow_multiple) next = [...input.selectedOptions].map((o) => o.value);
        else next = input.value || undefined;
        shape.attributes = { ...shape.attributes };
        if (next === undefined || (Array.isArray(next) && !next.length)) delete shape.attributes[name];
        else shape.attributes[name] = next;
        changed();
      });
      label.append(input);
      attributesPanel.append(label);
    }
  }

  // Validation, as the server's `check` will do it, so the worker hears about it first.

  function shapeProblem(shape) {
    const spec = geometries[shape.type];
    if (!spec) return `this task does not ask for ${shape.type} shapes`;
    if (!labelsByKind[shape.type].some((l) => l.value === shape.label)) return `pick a label (${shape.label || "none"} is not one)`;
    const [x1, y1, x2, y2] = bounds(shape);
    if (x1 < 0 || y1 < 0 || x2 > W || y2 > H) return "lies outside the image";
    if (shape.type === "box") {
      if (shape.width < (spec.min_width || 0)) return `narrower than ${spec.min_width} px`;
      if (shape.height < (spec.min_height || 0)) return `lower than ${spec.min_height} px`;
    }
    if (shape.vertices) {
      if (shape.vertices.length < (spec.min_vertices || 3)) return `needs at least ${spec.min_vertices || 3} points`;
      if (spec.max_vertices && shape.vertices.length > spec.max_vertices) return `allows at most ${spec.max_vertices} points`;
    }
    for (const [name, attribute] of Object.entries(attributeSpecs)) {
      const value = shape.attributes?.[name];
      if (attribute.required !== false && (value === undefined || value === "" || (Array.isArray(value) && !value.length)))
        return `needs the attribute “${name}”`;
    }
    return null;
  }

  function problemsByShape() {
    return shapes.map((s) => [s.uuid, shapeProblem(s)]).filter(([, p]) => p);
  }

  // Keyboard

  function handleKey(e) {
    if (readOnly) {
      if (["+", "=", "-", "0"].includes(e.key) && !isTyping(e)) { keyZoom(e.key); return true; }
      return false;
    }
    if (e.key === " " && !isTyping(e)) { spaceHeld = true; e.preventDefault(); return true; }
    if (isTyping(e)) return false;
    const ctrl = e.ctrlKey || e.metaKey;
    if (ctrl && e.key.toLowerCase() === "z") { restore(e.shiftKey ? redoStack : undoStack, e.shiftKey ? undoStack : redoStack); return true; }
    if (ctrl && e.key.toLowerCase() === "y") { restore(redoStack, undoStack); return true; }
    if (ctrl || e.altKey) return false;
    const key = e.key.toLowerCase();
    if (key === "v") setMode("select");
    else if (key === "b") setMode("box");
    else if (key === "p") setMode("polygon");
    else if (key === "o") setMode("point");
    else if (/^[1-9]$/.test(e.key)) pickLabel(Number(e.key) - 1);
    else if (e.key === "Delete" || e.key === "Backspace") deleteSelected();
    else if (e.key === "Enter" && polygonDraft) closePolygon();
    else if (e.key === "Escape") { polygonDraft = null; selected = null; render(); }
    else if (["+", "=", "-", "0"].includes(e.key)) keyZoom(e.key);
    else if (e.key === "Tab" && shapes.length) {
      const index = shapes.findIndex((s) => s.uuid === selected);
      const next = (index + (e.shiftKey ? -1 : 1) + shapes.length) % shapes.length;
      selected = shapes[index === -1 ? 0 : next].uuid;
      setMode("select");
    } else if (e.key.startsWith("Arrow") && selected) {
      const step = e.shiftKey ? 10 : 1;
      const [dx, dy] = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      checkpoint(); translate(find(selected), dx, dy); changed();
    } else return false;
    return true;
  }
  function keyZoom(key) {
    if (key === "0") setView({ x: 0, y: 0, w: W, h: H });
    else zoom(key === "-" ? 1 / 1.25 : 1.25);
  }
  const onKeyUp = (e) => { if (e.key === " ") spaceHeld = false; };
  window.addEventListener("keyup", onKeyUp);

  for (const button of modeButtons) button.addEventListener("click", () => setMode(button.dataset.mode));
  const actions = {
    undo: () => restore(undoStack, redoStack), redo: () => restore(redoStack, undoStack),
    "zoom-in": () => keyZoom("+"), "zoom-out": () => keyZoom("-"), fit: () => keyZoom("0"),
  };
  for (const button of root.querySelectorAll(".ia-view [data-action]"))
    button.addEventListener("click", () => actions[button.dataset.action]());
  if (readOnly) root.querySelector(".ia-modes").hidden = true;
  new ResizeObserver(() => render()).observe(svg);

  setView(view);
  setMode(mode);

  return {
    getAnswer() {
      const integer = geometries.box?.integer_pixels;
      return {
        annotations: shapes.map((s) => {
          if (s.type !== "box" || !integer) return s;
          return { ...s, left: Math.round(s.left), top: Math.round(s.top), width: Math.max(1, Math.round(s.width)), height: Math.max(1, Math.round(s.height)) };
        }),
      };
    },
    validate() {
      const problems = problemsByShape().map(([uuid, problem]) => {
        const index = shapes.findIndex((s) => s.uuid === uuid);
        return `Shape ${index + 1} (${shapes[index].type} ${shapes[index].label}): ${problem}`;
      });
      if (polygonDraft) problems.push("Finish the polygon you are drawing (Enter) or cancel it (Esc)");
      return problems;
    },
    handleKey,
    destroy() { window.removeEventListener("keyup", onKeyUp); },
  };
}

// Small DOM helpers shared by the tools. Text always goes in as textContent, never as HTML.
const SVG_NS = "http://www.w3.org/2000/svg";

export function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

export function svgEl(tag, attributes = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

export function labelColor(label) {
  // A stable, distinct hue per label name.
  let hash = 0;
  for (const ch of String(label || "")) hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return `hsl(${Math.abs(hash) % 360}, 80%, 45%)`;
}

export function isTyping(event) {
  const target = event.target;
  return Boolean(target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)));
}

export function plainKey(event) {
  // A single-key shortcut: no modifier, and not typed into a field.
  return !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event);
}

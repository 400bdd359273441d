// Read-only pages (a customer's task): the task's tool draws the delivered result over the data.
import { bindKeys, mountTool } from "./task.js";

const section = document.getElementById("task");
if (section) mountTool(section).then(({ tool }) => {
    bindKeys(section, { tool });
    section.dataset.ready = "true";
  });

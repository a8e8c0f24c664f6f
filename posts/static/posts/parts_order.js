// Thread parts in the composer: moved with ↑ and ↓, never numbered by hand.
// Each row's hidden "position" follows the rows' order on the page, so what the
// person sees is the order the thread is posted in (PostAdmin.save_formset).
"use strict";
(function () {
  const GROUP = "parts-group";

  function rows() {
    const group = document.getElementById(GROUP);
    if (!group) return [];
    return Array.from(group.querySelectorAll("tr.form-row:not(.empty-form)"));
  }

  function renumber() {
    rows().forEach(function (row, index) {
      const position = row.querySelector("input[name$='-position']");
      if (position) position.value = index;
      const label = row.querySelector(".kairos-part-number");
      if (label) label.textContent = "Part " + (index + 1);
    });
  }

  function move(row, step) {
    const all = rows();
    const index = all.indexOf(row);
    const other = all[index + step];
    if (!other) return;
    if (step < 0) other.before(row);
    else other.after(row);
    renumber();
  }

  function equip(row) {
    // A read-only page has no positions to set, and so no buttons.
    if (row.querySelector(".kairos-part-order")) return;
    if (!row.querySelector("input[name$='-position']")) return;
    // The position cell is hidden (its input is); the tools go above the text.
    const cell = row.querySelector("td.field-text") || row.querySelector("td");
    const tools = document.createElement("span");
    tools.className = "kairos-part-order";
    tools.style.display = "block";
    tools.style.marginBottom = "4px";
    const number = document.createElement("strong");
    number.className = "kairos-part-number";
    tools.append(number, " ");
    [["↑", -1, "Move this part up"], ["↓", 1, "Move this part down"]].forEach(function (spec) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = spec[0];
      button.title = spec[2];
      button.setAttribute("aria-label", spec[2]);
      button.addEventListener("click", function () { move(row, spec[1]); });
      tools.append(button, " ");
    });
    cell.prepend(tools);
  }

  function init() {
    rows().forEach(equip);
    renumber();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("formset:added", function (event) {
    if (event.detail && event.detail.formsetName === "parts") {
      equip(event.target);
      renumber();
    }
  });
})();

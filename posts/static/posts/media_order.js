// A part's library files in the order they go out: each file moves with its ↑ and ↓,
// and the part's hidden "media_order" keeps the chosen files' ids in the page's order
// (posts/admin.py: PostPartForm.chosen_media). The files the part has come first, in
// their order; the preview follows the page (composer_preview.js).
"use strict";
(function () {
  function optionsOf(row) {
    const boxes = row.querySelectorAll("input[type='checkbox'][name$='-files']");
    return Array.from(boxes).map(function (box) { return box.closest("label").parentElement; });
  }

  function write(row) {
    const hidden = row.querySelector("input[name$='-media_order']");
    hidden.value = optionsOf(row)
      .map(function (option) { return option.querySelector("input[type='checkbox']"); })
      .filter(function (box) { return box.checked; })
      .map(function (box) { return box.value; })
      .join(",");
    // The preview asks again, as it does when anything is typed.
    hidden.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function move(row, option, step) {
    const options = optionsOf(row);
    const other = options[options.indexOf(option) + step];
    if (!other) return;
    if (step < 0) other.before(option);
    else other.after(option);
    write(row);
  }

  function equip(row) {
    const hidden = row.querySelector("input[name$='-media_order']");
    const options = optionsOf(row);
    if (!hidden || !options.length || row.querySelector(".kairos-file-order")) return;
    const list = options[0].parentElement;
    const byId = {};
    options.forEach(function (option) {
      byId[option.querySelector("input[type='checkbox']").value] = option;
    });
    hidden.value.split(",").filter(Boolean).reverse().forEach(function (id) {
      if (byId[id]) list.prepend(byId[id]);
    });
    options.forEach(function (option) {
      const tools = document.createElement("span");
      tools.className = "kairos-file-order";
      [["↑", -1, "Move this file up"], ["↓", 1, "Move this file down"]].forEach(function (spec) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = spec[0];
        button.title = spec[2];
        button.setAttribute("aria-label", spec[2]);
        button.addEventListener("click", function () { move(row, option, spec[1]); });
        tools.append(" ", button);
      });
      option.append(tools);
    });
    list.addEventListener("change", function () { write(row); });
  }

  function rows() {
    const group = document.getElementById("parts-group");
    return group ? Array.from(group.querySelectorAll("tr.form-row:not(.empty-form)")) : [];
  }

  document.addEventListener("DOMContentLoaded", function () { rows().forEach(equip); });
  document.addEventListener("formset:added", function (event) {
    if (event.detail && event.detail.formsetName === "parts") equip(event.target);
  });
})();

// The composer's live counters and preview. As the person types (300 ms after the last
// key), the form's current values go to the server (posts/views.py: composer_preview),
// which counts each part as the account's network counts it (X's weighted length, from
// the function the worker's validator uses) and says what the network would refuse.
// Nothing is counted here, so the page never disagrees with the worker.
//
// The preview is generic over networks: a card per account (its name, handle and
// network), its parts as a thread, its files in place, its own text where it has one.
"use strict";
(function () {
  const DEBOUNCE_MS = 300;
  let timer = null;
  let asked = 0;

  function form() {
    return document.getElementById("post_form");
  }

  function previewUrl() {
    const path = window.location.pathname;
    const at = path.indexOf("/posts/post/");
    return path.slice(0, at) + "/posts/post/preview/";
  }

  function named(name) {
    return form().querySelector("[name='" + name + "']");
  }

  function partRows() {
    const group = document.getElementById("parts-group");
    if (!group) return [];
    return Array.from(group.querySelectorAll("tr.form-row:not(.empty-form)")).filter(function (row) {
      const deleted = row.querySelector("input[name$='-DELETE']");
      return row.querySelector("textarea[name$='-text']") && !(deleted && deleted.checked);
    });
  }

  // Files chosen for upload are not on the server yet: they are shown from the browser
  // and checked from their bytes when the post is saved.
  function uploadsOf(row) {
    const input = row.querySelector("input[type='file'][name$='-uploads']");
    return input ? Array.from(input.files) : [];
  }

  function values() {
    const accounts = Array.from(form().querySelectorAll("input[name='accounts']:checked")).map(
      function (box) { return box.value; }
    );
    const ownTexts = {};
    accounts.forEach(function (id) {
      const box = named("text_for_" + id);
      if (box) ownTexts[id] = box.value;
    });
    const workspace = named("workspace");
    const variants = named("variants");
    const zone = named("schedule_timezone");
    return {
      workspace: workspace ? workspace.value : "",
      accounts: accounts,
      own_texts: ownTexts,
      variants: variants ? variants.value : "",
      timezone: zone ? zone.value : "",
      parts: partRows().map(function (row) {
        return {
          text: row.querySelector("textarea[name$='-text']").value,
          media: Array.from(row.querySelectorAll("input[name$='-files']:checked")).map(
            function (box) { return box.value; }
          ),
        };
      }),
    };
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function counterText(length, limit) {
    if (limit === null) return String(length);
    const over = length - limit;
    return length + " / " + limit + (over > 0 ? " — " + over + " over" : "");
  }

  function counter(account, part) {
    const node = element(
      "span",
      "kairos-counter" + (part.over ? " kairos-counter-over" : ""),
      counterText(part.length, account.limit)
    );
    node.dataset.account = account.id;
    node.title = account.network_label + " counts " + part.length + " characters";
    return node;
  }

  function panel() {
    let node = document.getElementById("kairos-preview");
    if (node) return node;
    node = element("div", "module kairos-preview");
    node.id = "kairos-preview";
    node.setAttribute("aria-live", "polite");
    node.append(element("h2", "", "Preview"));
    node.append(element("div", "kairos-preview-accounts"));
    document.getElementById("parts-group").after(node);
    return node;
  }

  function mediaNode(file) {
    const figure = element("figure", "kairos-preview-file");
    if (file.kind === "video") {
      figure.append(element("span", "kairos-preview-video", "🎞 " + file.name));
    } else {
      const image = element("img");
      image.src = file.url;
      image.alt = file.alt || "";
      figure.append(image);
    }
    if (file.pending) figure.append(element("figcaption", "", "new: checked when saved"));
    return figure;
  }

  function pendingFiles(row) {
    return uploadsOf(row).map(function (upload) {
      return {
        kind: upload.type.startsWith("video/") ? "video" : "image",
        name: upload.name,
        url: URL.createObjectURL(upload),
        alt: "",
        pending: true,
      };
    });
  }

  function card(account, rows) {
    const node = element("section", "kairos-preview-account");
    node.dataset.account = account.id;
    if (account.over_limit || account.problems.length) node.classList.add("kairos-preview-refused");
    const header = element("header");
    header.append(
      element("strong", "", account.display_name || "@" + account.handle),
      " ",
      element("span", "kairos-preview-handle", "@" + account.handle),
      " ",
      element("span", "kairos-preview-network", account.network_label)
    );
    if (account.own_text) header.append(" ", element("em", "", "own text"));
    node.append(header);
    const thread = element("ol", "kairos-preview-thread");
    account.parts.forEach(function (part, index) {
      const item = element("li", "kairos-preview-part");
      item.append(element("p", "kairos-preview-text", part.text));
      const files = part.media.concat(rows[index] ? pendingFiles(rows[index]) : []);
      if (files.length) {
        const media = element("div", "kairos-preview-media");
        files.forEach(function (file) { media.append(mediaNode(file)); });
        item.append(media);
      }
      item.append(counter(account, part));
      thread.append(item);
    });
    node.append(thread);
    if (account.problems.length) {
      const problems = element("ul", "errorlist");
      account.problems.forEach(function (problem) { problems.append(element("li", "", problem)); });
      node.append(problems);
    }
    return node;
  }

  function partCounters(accounts, rows) {
    rows.forEach(function (row, index) {
      let line = row.querySelector(".kairos-part-counters");
      if (!line) {
        line = element("div", "kairos-part-counters");
        row.querySelector("textarea[name$='-text']").after(line);
      }
      line.replaceChildren();
      accounts.forEach(function (account) {
        const part = account.parts[index];
        if (!part) return;
        const chip = element("span", "kairos-part-counter");
        chip.append(account.name + (index === 0 && account.own_text ? " (own text): " : ": "));
        chip.append(counter(account, part));
        line.append(chip, " ");
      });
    });
  }

  function show(answer, rows) {
    const list = panel().querySelector(".kairos-preview-accounts");
    list.replaceChildren();
    if (!answer.accounts.length) {
      list.append(element("p", "help", "Choose an account to see the post as it will look there."));
    }
    answer.accounts.forEach(function (account) { list.append(card(account, rows)); });
    partCounters(answer.accounts, rows);
  }

  function showError(message) {
    const list = panel().querySelector(".kairos-preview-accounts");
    list.replaceChildren(element("p", "errornote", message));
  }

  function ask() {
    const number = ++asked;
    const rows = partRows();
    const token = form().querySelector("input[name='csrfmiddlewaretoken']").value;
    fetch(previewUrl(), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token },
      body: JSON.stringify(values()),
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (number !== asked) return; // a later question is on its way
        if (result.ok) show(result.body, rows);
        else showError(result.body.error || "The preview could not be made.");
      })
      .catch(function () {
        if (number === asked) showError("The preview could not be reached; it will retry as you type.");
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, DEBOUNCE_MS);
  }

  function init() {
    // A read-only page (a viewer's) has no composer to preview.
    if (!form() || !partRows().length) return;
    form().addEventListener("input", later);
    form().addEventListener("change", later);
    document.addEventListener("formset:added", later);
    document.addEventListener("formset:removed", later);
    // The parts' ↑ and ↓ buttons reorder without an input event.
    document.getElementById("parts-group").addEventListener("click", function (event) {
      if (event.target.closest(".kairos-part-order button")) later();
    });
    ask();
  }

  document.addEventListener("DOMContentLoaded", init);
})();

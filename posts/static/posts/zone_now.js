// The composer's date and time widgets read the clock in the zone chosen on the form.
// Django's "Now" and "Today" (DateTimeShortcuts) fill in the browser's or the server's
// time, which the form then reads as wall time in the chosen zone: a post meant for
// "now" in New York went out hours late. Here "now" is the wall clock of the zone typed
// in "Time zone" (or of the workspace's default zone when it is empty), from the UTC
// offsets the server put on each zone of the list (posts/admin.py: ZoneInput).
"use strict";
(function () {
  const ZONED_FIELDS = ["schedule_local_date", "schedule_local_time"];
  const shortcuts = window.DateTimeShortcuts;
  if (!shortcuts) return;

  function zoneBox() {
    return document.querySelector("input[name='schedule_timezone']");
  }

  // The chosen zone's offset from UTC now, in seconds; null when the page has no zone.
  function offsetSeconds() {
    const box = zoneBox();
    if (!box) return null;
    let name = box.value.trim();
    if (!name) {
      const workspace = document.querySelector("select[name='workspace']");
      const defaults = JSON.parse(box.dataset.workspaceZones || "{}");
      name = workspace ? defaults[workspace.value] || "" : "";
    }
    const list = document.getElementById(box.getAttribute("list"));
    const option = list && Array.from(list.options).find(function (o) { return o.value === name; });
    return option ? Number(option.dataset.offset) : null;
  }

  const serverNow = shortcuts.now;
  shortcuts.now = function () {
    const offset = offsetSeconds();
    if (offset === null) return serverNow();
    // A Date whose fields, read in the browser's zone, are the wall time in the chosen zone.
    const wall = new Date(Date.now() + offset * 1000);
    return new Date(
      wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate(),
      wall.getUTCHours(), wall.getUTCMinutes(), wall.getUTCSeconds()
    );
  };

  // Django's note ("You are 5 hours ahead of server time") is about the server's zone,
  // which these fields are not in.
  const warn = shortcuts.addTimezoneWarning;
  shortcuts.addTimezoneWarning = function (input) {
    if (ZONED_FIELDS.indexOf(input.name) === -1) warn(input);
  };
})();
